"""A recruitment platform's tracker traffic, generated deterministically and published to Kafka.

Visitors arrive from publishers and campaigns and browse job ads; each visit is a funnel: a click, then far
fewer conversions, then qualified or unqualified applications, each event carrying the campaign's CPC bid.
The tracker's noise comes along: ``alive`` pings, empty tracks, events without a job, odd casing and spaces in
``custom_track``, and a few jobs the job table does not know. The same seed and start give the same events.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ingest.reference_data import ReferenceData, reference_data

_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100-ns intervals from 1582-10-15 to 1970-01-01


@dataclass(frozen=True)
class Mix:
    """Shares of the funnel and of the noise (per visit or per event)."""

    conversion: float = 0.12  # of clicks
    application: float = 0.55  # of conversions
    qualified: float = 0.45  # of applications
    alive: float = 0.05  # alive pings, per visit
    empty_track: float = 0.01
    null_job: float = 0.01
    odd_case: float = 0.03
    unknown_job: float = 0.005
    unknown_publisher_or_campaign: float = 0.01


_BROWSERS = [
    ("Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Safari/537.36"),
    ("Chrome", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Mobile Safari/537.36"),
    ("Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/18.1 Mobile/15E148 Safari/604.1"),
    ("Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/18.0 Safari/605.1.15"),
    ("Firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"),
    ("Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
    ("Samsung Internet", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"),
]  # fmt: skip
_SCREENS = [("1920x1080", "1903x947"), ("1366x768", "1349x657"), ("2560x1440", "2543x1307"),
            ("390x844", "390x664"), ("412x915", "412x785"), ("1440x900", "1440x789")]  # fmt: skip
_TIMEZONES = [-420, -480, -540, 0, 60, 120, 330, 420, 480, 540, 600]
_MEDIUMS = ["cpc", "organic", "email", "social", "referral"]
_ODD_CASES = {
    "click": ["Click", "CLICK", " click", "click "],
    "conversion": ["Conversion", "CONVERSION ", " conversion"],
    "qualified": ["Qualified", " QUALIFIED"],
    "unqualified": ["UnQualified", "unqualified  "],
}


def time_uuid(moment: float, rng: random.Random) -> str:
    """A version-1 UUID for ``moment`` whose clock sequence and node come from ``rng`` (reproducible)."""
    ticks = int(moment * 10_000_000) + _GREGORIAN_OFFSET
    clock_seq = rng.getrandbits(14)
    node = rng.getrandbits(48) | 0x010000000000  # multicast bit: not a real MAC address
    time_hi_version = ((ticks >> 48) & 0x0FFF) | 0x1000  # version 1
    clock_seq_hi_variant = (clock_seq >> 8) | 0x80  # RFC 4122 variant
    fields = (ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, time_hi_version, clock_seq_hi_variant, clock_seq & 0xFF, node)
    return str(uuid.UUID(fields=fields))


class Simulator:
    """Generates events in time order, ``rate`` events per simulated second from ``start``."""

    def __init__(self, *, seed: int, start: datetime, rate: float, mix: Mix | None = None,
                 data: ReferenceData | None = None) -> None:  # fmt: skip
        self.rng = random.Random(seed)
        self.start = start
        self.rate = rate
        self.mix = mix or Mix()
        self.data = data or reference_data()
        self.campaign_bids = {campaign.id: float(campaign.cpc_bid) for campaign in self.data.campaigns}
        self.companies = {company.id: company for company in self.data.companies}
        self.open_jobs = [job for job in self.data.jobs if job.status != "closed"]
        # A few jobs draw most traffic; so do a few publishers.
        self.job_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(self.open_jobs))]
        self.publisher_weights = [1.0 / (rank + 1) for rank in range(len(self.data.publishers))]
        self.base_epoch = start.timestamp()

    def events(self) -> Iterator[dict[str, Any]]:
        """An endless stream of events; the n-th one happens n / rate seconds after ``start``."""
        sequence = 0
        while True:
            for event in self._visit():
                offset = sequence / self.rate
                moment = self.base_epoch + offset
                event["create_time"] = time_uuid(moment, self.rng)
                # ts: the platform's local wall-clock time, as the tracker writes it
                event["ts"] = (self.start + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")
                sequence += 1
                yield event

    def _visit(self) -> list[dict[str, Any]]:
        rng, mix = self.rng, self.mix
        job = rng.choices(self.open_jobs, weights=self.job_weights)[0]
        publisher = rng.choices(self.data.publishers, weights=self.publisher_weights)[0]
        browser, agent = rng.choice(_BROWSERS)
        screen, viewport = rng.choice(_SCREENS)
        medium = rng.choice(_MEDIUMS)
        company = self.companies[job.company_id]
        job_id: int | None = job.id
        if rng.random() < mix.unknown_job:
            job_id = 900_000 + rng.randrange(1000)  # a job ad the job table does not (yet) have
        campaign_id: int | None = job.campaign_id
        publisher_id: int | None = publisher.id
        group_id: int | None = job.group_id
        if rng.random() < mix.unknown_publisher_or_campaign:
            campaign_id, publisher_id, group_id = rng.choice([(None, publisher_id, group_id),
                                                              (campaign_id, None, None)])  # fmt: skip
        visitor = f"{rng.getrandbits(64):016x}"
        base = {
            "bid": self.campaign_bids[job.campaign_id],
            "bn": browser,
            "campaign_id": campaign_id,
            "cd": rng.choice([24, 24, 30, 32]),
            "de": "UTF-8",
            "dl": f"https://careers.jobpulse.example/jobs/{job.id}?utm_source={publisher.domain}&utm_medium={medium}",
            "dt": f"{job.title} - {company.name} ({job.city})",
            "ed": "",
            "ev": 2,
            "group_id": group_id,
            "id": f"JP-{publisher.id:03d}",
            "job_id": job_id,
            "md": "true" if "Mobile" in agent else "false",
            "publisher_id": publisher_id,
            "rl": f"https://{publisher.domain}/search?q={job.category.lower()}",
            "sr": screen,
            "tz": rng.choice(_TIMEZONES),
            "ua": agent,
            "uid": visitor,
            "utm_campaign": f"cmp-{job.campaign_id}",
            "utm_content": f"job-{job.id}",
            "utm_medium": medium,
            "utm_source": publisher.domain,
            "utm_term": job.category.lower(),
            "v": 1,
            "vp": viewport,
        }
        tracks = ["click"]
        if rng.random() < mix.conversion:
            tracks.append("conversion")
            if rng.random() < mix.application:
                tracks.append("qualified" if rng.random() < mix.qualified else "unqualified")
        if rng.random() < mix.alive:
            tracks.append("alive")
        if rng.random() < mix.empty_track:
            tracks.append("")
        visit = []
        for track in tracks:
            event = dict(base)
            if track in _ODD_CASES and rng.random() < mix.odd_case:
                track = rng.choice(_ODD_CASES[track])
            event["custom_track"] = track
            if rng.random() < mix.null_job:
                event["job_id"] = None
            visit.append(event)
        return visit


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()

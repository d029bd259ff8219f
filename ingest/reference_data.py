"""The recruitment platform's reference data: companies, publishers, campaigns and job ads.

Generated deterministically from a seed, so the MySQL dimensions (filled by a migration) and the simulator's
traffic describe the same jobs without either reading the other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

SEED = 2026
COMPANIES = 300
PUBLISHERS = 40
CAMPAIGNS_PER_COMPANY = (1, 3)
JOBS = 5000
GROUPS_PER_COMPANY = (2, 8)

_PREFIXES = [
    "Blue", "North", "Bright", "Green", "Silver", "Nova", "Apex", "Summit", "Harbor", "Prime", "Cedar", "Atlas",
    "Orbit", "Vertex", "Lumen", "Pioneer", "Crest", "Delta", "Evergreen", "Keystone", "Meridian", "Nimbus",
    "Quantum", "Redwood", "Sterling", "Tidal", "Union", "Vista", "Willow", "Zenith",
]  # fmt: skip
_SUFFIXES = [
    "Logistics", "Health", "Systems", "Foods", "Energy", "Bank", "Retail", "Labs", "Media", "Motors",
    "Insurance", "Telecom", "Pharma", "Construction", "Software", "Hotels",
]  # fmt: skip
_LEGAL = ["Inc.", "LLC", "GmbH", "Ltd", "S.A.", "JSC", "Co."]
_INDUSTRY = {
    "Logistics": "Transport & Logistics", "Health": "Healthcare", "Systems": "Information Technology",
    "Foods": "Food & Beverage", "Energy": "Energy", "Bank": "Financial Services", "Retail": "Retail",
    "Labs": "Research", "Media": "Media", "Motors": "Automotive", "Insurance": "Insurance",
    "Telecom": "Telecommunications", "Pharma": "Pharmaceuticals", "Construction": "Construction",
    "Software": "Information Technology", "Hotels": "Hospitality",
}  # fmt: skip
CITIES = [
    "Hanoi", "Ho Chi Minh City", "Da Nang", "Singapore", "Bangkok", "Kuala Lumpur", "Jakarta", "Manila",
    "Berlin", "London", "Paris", "Amsterdam", "New York", "Austin", "Toronto", "Sydney", "São Paulo", "Zürich",
]  # fmt: skip
_ROLES = {
    "Engineering": ["Software Engineer", "Data Engineer", "DevOps Engineer", "QA Engineer", "Mobile Developer"],
    "Data": ["Data Analyst", "Data Scientist", "BI Developer", "Analytics Engineer"],
    "Sales": ["Account Executive", "Sales Manager", "Business Developer", "Customer Success Manager"],
    "Operations": ["Warehouse Supervisor", "Operations Manager", "Dispatcher", "Procurement Specialist"],
    "Healthcare": ["Registered Nurse", "Pharmacist", "Lab Technician", "Care Assistant"],
    "Finance": ["Accountant", "Financial Analyst", "Auditor", "Payroll Specialist"],
    "Marketing": ["Marketing Manager", "Content Writer", "SEO Specialist", "Brand Designer"],
    "Hospitality": ["Front Desk Agent", "Chef de Partie", "Restaurant Manager", "Housekeeper"],
}  # fmt: skip
_SENIORITY = ["Junior", "", "", "Senior", "Lead", "Principal"]
_PUBLISHER_KINDS = ["job board", "aggregator", "social network", "search engine", "newsletter", "campus portal"]
_PUBLISHER_NAMES = [
    "JobHub", "CareerNet", "WorkFinder", "HireLine", "TalentPool", "JobStreet", "NextStep", "GigBoard",
    "Recruitly", "OpenRoles", "SkillMatch", "WorkWave", "CareerLink", "JobSpot", "HireMe", "TechJobs",
    "NurseBoard", "RemoteRow", "FreshGrad", "ExecSearch",
]  # fmt: skip
_EPOCH = datetime(2024, 1, 1)


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    industry: str
    city: str
    created_at: datetime


@dataclass(frozen=True)
class Publisher:
    id: int
    name: str
    kind: str
    domain: str
    created_at: datetime


@dataclass(frozen=True)
class Campaign:
    id: int
    company_id: int
    name: str
    cpc_bid: Decimal
    daily_budget: Decimal
    start_date: date


@dataclass(frozen=True)
class Job:
    id: int
    company_id: int
    group_id: int
    campaign_id: int
    title: str
    category: str
    city: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ReferenceData:
    companies: tuple[Company, ...]
    publishers: tuple[Publisher, ...]
    campaigns: tuple[Campaign, ...]
    jobs: tuple[Job, ...]


def _moment(rng: random.Random, days: int = 600) -> datetime:
    return _EPOCH + timedelta(seconds=rng.randrange(days * 86400))


@cache
def reference_data(seed: int = SEED) -> ReferenceData:
    """The platform's reference data for ``seed``; the same seed always gives the same rows."""
    rng = random.Random(seed)
    companies = []
    for company_id in range(1, COMPANIES + 1):
        suffix = rng.choice(_SUFFIXES)
        name = f"{rng.choice(_PREFIXES)} {suffix} {rng.choice(_LEGAL)}"
        companies.append(Company(company_id, name, _INDUSTRY[suffix], rng.choice(CITIES), _moment(rng)))

    publishers = []
    for publisher_id in range(1, PUBLISHERS + 1):
        base = _PUBLISHER_NAMES[(publisher_id - 1) % len(_PUBLISHER_NAMES)]
        name = base if publisher_id <= len(_PUBLISHER_NAMES) else f"{base} {rng.choice(CITIES)}"
        domain = name.lower().replace(" ", "-").replace("ã", "a").replace("ü", "u") + ".example"
        publishers.append(Publisher(publisher_id, name, rng.choice(_PUBLISHER_KINDS), domain, _moment(rng)))

    campaigns, groups = [], []
    for company in companies:
        for number in range(1, rng.randint(*CAMPAIGNS_PER_COMPANY) + 1):
            bid = Decimal(str(round(rng.uniform(0.15, 2.5), 2)))
            budget = Decimal(str(rng.randrange(50, 2000, 10)))
            start = (_EPOCH + timedelta(days=rng.randrange(600))).date()
            campaigns.append(
                Campaign(len(campaigns) + 1, company.id, f"{company.name} campaign {number}", bid, budget, start)
            )
        groups += [(company.id, len(groups) + index) for index in range(1, rng.randint(*GROUPS_PER_COMPANY) + 1)]

    campaigns_of: dict[int, list[Campaign]] = {}
    for campaign in campaigns:
        campaigns_of.setdefault(campaign.company_id, []).append(campaign)
    groups_of: dict[int, list[int]] = {}
    for company_id, group_id in groups:
        groups_of.setdefault(company_id, []).append(group_id)

    jobs = []
    categories = list(_ROLES)
    for job_id in range(1, JOBS + 1):
        company = rng.choice(companies)
        category = rng.choice(categories)
        seniority = rng.choice(_SENIORITY)
        title = f"{seniority} {rng.choice(_ROLES[category])}".strip()
        status = rng.choices(["open", "paused", "closed"], weights=[88, 5, 7])[0]
        jobs.append(
            Job(
                id=job_id,
                company_id=company.id,
                group_id=rng.choice(groups_of[company.id]),
                campaign_id=rng.choice(campaigns_of[company.id]).id,
                title=title,
                category=category,
                city=rng.choice(CITIES),
                status=status,
                created_at=_moment(rng),
            )
        )
    return ReferenceData(tuple(companies), tuple(publishers), tuple(campaigns), tuple(jobs))

"""What happens when a pipeline DAG run fails: its failure is logged with the run and the task that failed it,
and emailed to ``JOBPULSE_ALERT_EMAIL`` when that names anyone, through Airflow's SMTP notifier and connection
(``smtp_default``, or ``[email] email_conn_id``). Task retries come first: a run fails once they are spent, or
when it outlives its ``dagrun_timeout`` (then no task is to blame)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from typing import Any

from jobpulse.config import Settings, addresses

log = logging.getLogger(__name__)


def failure_report(context: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and text of a failed run's notice, from the context Airflow passes a DAG's failure callback:
    ``dag``, ``run_id`` and ``reason`` always, ``ti`` when a task's failure failed the run."""
    dag_id, run_id = context["dag"].dag_id, context["run_id"]
    task = context.get("ti")
    reason = context.get("reason") or "failed"
    subject = f"JobPulse: {dag_id} run {run_id} failed" + (f" in task {task.task_id}" if task else "")
    lines = [
        f"DAG: {dag_id}",
        f"run: {run_id}",
        f"failed task: {task.task_id} (try {task.try_number})" if task else "failed task: none (the run as a whole)",
        f"reason: {reason}",
        "The next run resumes from the committed state; see the task's log in Airflow and the pipeline-health "
        "dashboard.",
    ]
    return subject, "\n".join(lines)


def on_failure(settings: Settings) -> Callable[[Mapping[str, Any]], None]:
    """The pipeline DAG's ``on_failure_callback``: log the failure, and email it if anyone is to be told."""
    recipients = list(addresses(settings.alert_email))

    def notify(context: Mapping[str, Any]) -> None:
        subject, text = failure_report(context)
        log.error("%s\n%s", subject, text)
        if recipients:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            # notify(), not the notifier's __call__: the text is sent as it is, never rendered as a template
            SmtpNotifier(to=recipients, subject=subject, html_content=f"<pre>{html.escape(text)}</pre>").notify(
                dict(context)
            )

    return notify

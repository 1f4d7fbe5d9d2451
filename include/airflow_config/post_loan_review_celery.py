"""The Celery configuration of the workers that run the review:
``[celery] celery_config_options = post_loan_review_celery.CELERY_CONFIG``, with this folder on
``PYTHONPATH`` (docker-compose.yaml and scripts/native_stack.py set both). It lives outside the
``post_loan_review`` package because it imports Airflow, which that package never does.

Airflow's default configuration (broker, result backend, queues from ``[celery]``), plus the
modules a worker imports at start: Celery imports them in the worker's main process before it
forks its pool, and Airflow forks every task's process from there, so no task imports them again
(``post_loan_review.preload`` says which and why). The scheduler imports this module too, to build
the app it sends tasks with; that imports nothing heavy."""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

PRELOAD = "post_loan_review.preload"

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": [*DEFAULT_CELERY_CONFIG.get("imports", ()), PRELOAD]}

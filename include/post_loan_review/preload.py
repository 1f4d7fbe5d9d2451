"""Imported once by each Airflow Celery worker at start (``post_loan_review_celery.CELERY_CONFIG``
in include/airflow_config/): everything a task of the review imports. Airflow's task supervisor
forks each task's process from the worker, so the task inherits these modules instead of
importing them again. Great Expectations alone takes 3 to 8 s to import on this project's
machines, once per validation shard; pandas, Arrow and this package about 1 s in every task
(docs/performance.md). Airflow preloads its own expensive modules into the worker the same way
(``on_celery_import_modules`` in its Celery provider).

Importing this module opens no connection and starts no thread: every forked task would share it."""

from __future__ import annotations

import importlib

# what the tasks import lazily, on top of what post_loan_review.stages imports at the top
MODULES = (
    "post_loan_review.stages",
    "psycopg",
    "pyarrow.csv",
    "jinja2",
    "great_expectations",
    "great_expectations.expectations",
)

for _module in MODULES:
    importlib.import_module(_module)

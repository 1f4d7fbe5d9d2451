"""post-loan-review: the nightly post-loan credit-line review (贷后额度管理).

The whole business lives in this package and imports nothing from Airflow, so every stage can be
run and tested without it. The stage modules carry the names of the DAG's tasks (see ``stages``).
"""

__version__ = "0.1.0"

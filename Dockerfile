# The production image: the official Airflow image plus our locked dependencies and package.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml README.md /opt/post-loan-review/
COPY --chown=airflow:root include /opt/post-loan-review/include
COPY --chown=airflow:root sql /opt/post-loan-review/sql
RUN pip install --no-cache-dir --no-deps -r /opt/post-loan-review/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/post-loan-review

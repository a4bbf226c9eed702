"""Predictive CLV (DOMAIN.md §6, second half): BG/NBD and Gamma-Gamma fitted by maximum likelihood.

Modules: `grouping` (identical summaries collapsed with weights), `mle` (the shared optimiser), `bgnbd`,
`gamma_gamma`, `scoring` (`fit_and_score`, called by the Dagster asset), `holdout` (the holdout
evaluation, run by the same asset), `simulate` (data drawn from the models, for recovery tests) and
`bench` (timing script). The pandas oracle of the SQL summary is in tests/support/purchase_summary.py.
"""

"""Predictive CLV (DOMAIN.md §6, second half): BG/NBD and Gamma-Gamma fitted by maximum likelihood.

Modules: `summary` (the per-customer summary in pandas, the test oracle of the SQL model
`int_customer_purchase_summary`), `grouping` (identical summaries collapsed with weights), `mle`
(the shared optimiser), `bgnbd`, `gamma_gamma`, `scoring` (`fit_and_score`, called by the Dagster
asset), `simulate` (data drawn from the models, for recovery tests) and `bench` (timing script).
"""

"""The demo-data generator: a latent customer lifecycle, raw landing files and the truth behind them.

Modules: `lifecycle` (the latent process and phases), `tables` (raw rows), `render` (raw text),
`dirty` (bad rows), `files` (bad files), `writers` (one file per table per day), `truth`.
The entry point is `orchestration.generate`.
"""

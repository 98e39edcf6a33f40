"""A deterministic simulation of a B2B SaaS company, written as landing-folder exports.

`revops.generator.run.generate(GeneratorConfig(...))` simulates marketing spend, leads, the sales
funnel, deals and Stripe billing day by day, writes each day's deliveries in the formats of
docs/EXPORTS.md and records the simulation's own ground truth in `truth.json`.
"""

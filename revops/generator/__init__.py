"""A deterministic simulation of a B2B SaaS company, written as landing-folder exports.

`generate(GeneratorConfig(...))` simulates marketing spend, leads, the sales funnel, deals and
Stripe billing day by day, writes each day's deliveries in the formats of docs/EXPORTS.md and
records the simulation's own ground truth in `truth.json`.
"""

from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import GenerationResult, generate

__all__ = ["SCALES", "GenerationResult", "GeneratorConfig", "generate"]

"""A deterministic synthetic pump.fun market that streams canonical events (docs/simulator.md)."""

from megatron.simulate.market import SimSummary, simulate, start_slot_for, token_fates, wallet_labels
from megatron.simulate.output import write_jsonl
from megatron.simulate.params import ARCHETYPES, FATES, Activity, FateProfile, SimParams, SimulationError

__all__ = [
    "ARCHETYPES",
    "FATES",
    "Activity",
    "FateProfile",
    "SimParams",
    "SimSummary",
    "SimulationError",
    "simulate",
    "start_slot_for",
    "token_fates",
    "wallet_labels",
    "write_jsonl",
]

"""Getting data in: files and folders, SOL/USD price feeds, an RPC node — all through one loader."""

from megatron.ingest.loader import Counts, Loader

__all__ = ["Counts", "Loader"]

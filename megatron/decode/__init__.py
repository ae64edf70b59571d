"""Decoders from Solana JSON-RPC transactions and event log lines to canonical events.

Pure Python: no network, no database. Entry points:

- :func:`decode_transaction` / :func:`decode_transaction_result` for one getTransaction result
  (``json`` or ``jsonParsed``; legacy, v0 and v1 messages; Helius ``transactionNotification``).
- :func:`iter_records` + :func:`decode_record` for files and folders of mixed input.
- :func:`decode_event` for one Anchor event payload (layout level, all fields).
"""

from megatron.decode.borsh import DecodeError, Reader, ShortInput
from megatron.decode.layouts import DecodedEvent, decode_event
from megatron.decode.records import RawRecord, decode_log_line, decode_record, iter_records
from megatron.decode.transaction import (
    FailedTransaction,
    Instruction,
    TransactionDecode,
    decode_transaction,
    decode_transaction_result,
    iter_instructions,
)
from megatron.validate import InvalidEvent, RejectError

__all__ = [
    "DecodeError",
    "DecodedEvent",
    "FailedTransaction",
    "Instruction",
    "InvalidEvent",
    "RawRecord",
    "Reader",
    "RejectError",
    "ShortInput",
    "TransactionDecode",
    "decode_event",
    "decode_log_line",
    "decode_record",
    "decode_transaction",
    "decode_transaction_result",
    "iter_instructions",
    "iter_records",
]

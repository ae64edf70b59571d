"""One raw record into the loader: its events added, a failed transaction skipped, a reject kept."""

from __future__ import annotations

from megatron.decode import FailedTransaction, decode_record
from megatron.decode.records import RawRecord
from megatron.ingest.loader import Loader
from megatron.validate import RejectError


def feed_record(loader: Loader, record: RawRecord, *, now: float, origin: str | None = None,
                payload: str | None = None) -> None:
    """Decode ``record`` and hand the outcome to ``loader``.

    ``origin`` and ``payload`` name the input and keep its raw text in a reject (default: the
    record's own); the RPC source passes the call's origin and the whole response.
    """
    where = record.origin if origin is None else origin
    try:
        events = decode_record(record, now=now)
    except FailedTransaction:
        loader.record_skipped()
        return
    except RejectError as exc:
        loader.record_rejected(where, exc.reason_code, exc.message, record.text if payload is None else payload)
        return
    except UNEXPECTED as exc:  # a decoder bug must not stop the run: keep the record and say so
        loader.record_rejected(where, "undecodable", undecodable_message(where, exc),
                               record.text if payload is None else payload)
        return
    loader.add_all(events, where)


#: errors a malformed record might still provoke inside the decoder
UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError)


def undecodable_message(where: str, exc: BaseException) -> str:
    return (f"{where}: the decoder could not read this record ({exc.__class__.__name__}: {str(exc)[:300]}); "
            "it is kept here, please report it")

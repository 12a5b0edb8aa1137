"""Proofs for outsiders: a participant's inclusion proofs, the public anchors file, the signing keys.

Proofs are scoped like every ledger read (only entries that concern the caller; someone else's reads as
missing, 404). The anchors file and the keys are public: they are what outsiders hold the ledger to.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from services.gateway.deps import GatewayDep, Ledger, Participant
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.ledger_proofs import CertificateProofPublic, InclusionProofPublic, PublicKeyPublic
from shared.errors import NotFound, NotYetAnchored

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
_PROOF_ERRORS = error_responses(401, 403, 404, 409, 503)
JSONL = "application/jsonl"


def _answer(make: Any) -> Any:
    try:
        return make()
    except NotFound as exc:
        return JSONResponse(status_code=404, content={"message": str(exc)})
    except NotYetAnchored as exc:
        return JSONResponse(status_code=409, content={"message": f"{exc}; ask again after the slot's next anchor"})


@router.get("/proofs/trades/{trade_id}", response_model=InclusionProofPublic, responses=_PROOF_ERRORS)
def trade_proof(trade_id: str, participant: Participant, ledger: Ledger) -> Any:
    """The Merkle proof of one of the caller's trades against its slot's published anchor (409 until the
    slot is anchored, a few seconds after the trade settles)."""
    return _answer(lambda: ledger.participant(participant).inclusion_proof(trade_id))


@router.get("/proofs/certificates/{cert_id}", response_model=CertificateProofPublic, responses=_PROOF_ERRORS)
def certificate_proof(cert_id: str, participant: Participant, ledger: Ledger) -> Any:
    """A certificate's issue and, once retired, its retirement naming the target, each with its proof."""
    return _answer(lambda: ledger.participant(participant).certificate_proof(cert_id))


@router.get("/proofs/entries/{kind}/{ref}", response_model=InclusionProofPublic, responses=_PROOF_ERRORS)
def entry_proof(kind: str, ref: str, participant: Participant, ledger: Ledger) -> Any:
    """The proof of any entry that concerns the caller (a trade, a retirement, a payment of a newer kind)."""
    return _answer(lambda: ledger.participant(participant).entry_proof(kind, ref))


@router.get("/anchors.jsonl", response_class=Response,
            responses={200: {"content": {JSONL: {"schema": {"type": "string"}}},
                             "description": "one published anchor per line, oldest first"}})
def published_anchors(gateway: GatewayDep) -> Response:
    """Every slot anchor the ledger published, as the append-only public file (no sign-in needed)."""
    path = gateway.settings.anchors_file()
    return Response(path.read_bytes() if path.is_file() else b"", media_type=JSONL)


@router.get("/keys", response_model=list[PublicKeyPublic])
def signing_keys(ledger: Ledger) -> list[dict[str, str]]:
    """The public keys that signed ledger entries (pin the one you got out of band; see docs/ledger-format.md)."""
    return ledger.public_keys()

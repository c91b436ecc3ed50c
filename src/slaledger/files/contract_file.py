"""Reading a contract file: YAML validated against the contract model, every mistake located."""

from __future__ import annotations

from pathlib import Path

from slaledger.core.contract import Contract
from slaledger.errors import ContractError
from slaledger.files.business_calendars import holiday_problems
from slaledger.files.yaml_document import read_yaml_mapping, validate_document

_UNION_HINTS = {
    "status": "an HTTP status code from 100 to 599 or a class 1xx, 2xx, 3xx, 4xx or 5xx",
}
"""What a field whose type is a union expects, said once instead of once per member."""


def load_contract(path: Path) -> Contract:
    """The contract in ``path``; :class:`ContractError` lists every mistake, in file order."""
    document = read_yaml_mapping(path, ContractError)
    contract = validate_document(document, Contract, ContractError, _UNION_HINTS)
    problems = holiday_problems(document, contract)
    if problems:
        raise ContractError(problems)
    return contract

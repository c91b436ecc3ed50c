"""Reading a customers file: YAML validated against the customer model and the contract,
every mistake located (``customers.yaml:4: customers[0].base_fee: expected …``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slaledger.core.contract import Contract
from slaledger.core.customers import Customers, check_customers
from slaledger.errors import CustomersError
from slaledger.files.currencies import minor_units
from slaledger.files.yaml_document import Finding, read_yaml_mapping, validate_document


@dataclass(frozen=True)
class CustomerBook:
    """The customers of a file and the minor unit of each currency they pay in."""

    customers: Customers
    minor_units: dict[str, int]


def load_customers(path: Path, contract: Contract) -> CustomerBook:
    """The customers in ``path``, valid for ``contract``; :class:`CustomersError` lists every
    mistake in file order: malformed entries first, then unknown services, locations and
    currencies, and fees finer than their currency's minor unit."""
    document = read_yaml_mapping(path, CustomersError)
    customers = validate_document(document, Customers, CustomersError)
    units = minor_units(customer.currency for customer in customers.customers)
    found = [
        Finding(where, message) for where, message in check_customers(customers, contract, units)
    ]
    if found:
        raise CustomersError(document.problems(found))
    return CustomerBook(customers, units)

"""Runs PyPI's statuscheck against a Statuspage-compatible base URL (the first argument).

statuscheck knows pages by their statuspage.io id only; this subclass of its Statuspage
handler changes nothing but the base URL, so its own parser reads our ``summary.json``.
Prints statuscheck's own verbose report.
"""

import sys

from statuscheck.services.bases._statuspageio import BaseStatusPageAPI


class Page(BaseStatusPageAPI):
    name = "Acme"
    domain_id = "slaledger"
    status_url = sys.argv[1]
    service_url = sys.argv[1]

    def _get_base_url(self) -> str:
        return sys.argv[1].rstrip("/") + "/api/v2/"


Page()._print_summary(verbose=True)

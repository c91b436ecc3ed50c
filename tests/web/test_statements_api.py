"""``/api/v1/statements`` through a real server: the chain, each file byte for byte as
issued (it verifies offline), the public key."""

from __future__ import annotations

import json
import urllib.request

from api_server import START, Clock, request, serving
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.statement_chain import read_statement_file, verify_chain
from slaledger.files.signing_key import PublicKey, SigningKey
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import ObservationStore
from slaledger.store.statements import StatementStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import create_app
from slaledger.web.statements_api import PublishedStatements, mount_statements_api

KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
CONTRACT = Contract.model_validate(
    {
        "contract": "chain-web",
        "name": "Chain web test",
        "services": {"api": {"name": "API", "target": "99.5", "downtime": {"rule": "probe-ratio"}}},
    }
)


def raw(url: str) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read(), dict(response.headers)


def test_statements_and_the_key_are_served_and_verify_offline(store_url: str) -> None:
    engine = connect(store_url)
    migrate(engine)
    store = StatementStore(engine)
    for month in ("2026-09", "2026-10"):
        store.issue("chain-web", month, json.dumps({"month": month}) + "\n", START, KEY)
    app = create_app(CONTRACT, Events(), ObservationStore(engine), TokenStore(engine), Clock(START))
    mount_statements_api(app, PublishedStatements("chain-web", store, KEY.public_pem))
    try:
        with serving(app) as url:
            listed = request(f"{url}/api/v1/statements")
            assert listed.status == 200
            assert listed.body["key_url"] == "/api/v1/statements/key"
            september, october = listed.body["statements"]
            assert september["month"] == "2026-09"
            assert september["previous_month"] is None
            assert october["previous_sha256"] == september["sha256"]
            assert october["key_id"] == KEY.key_id
            assert october["url"] == "/api/v1/statements/2026-10"

            status, pem, _ = raw(f"{url}/api/v1/statements/key")
            assert (status, pem) == (200, KEY.public_pem)
            files = []
            for entry in (september, october):
                status, body, headers = raw(url + entry["url"])
                assert status == 200
                assert headers["etag"] == f'"{entry["sha256"]}"'
                assert headers["content-disposition"] == (
                    f'attachment; filename="statement-chain-web-{entry["month"]}.json"'
                )
                assert body == store.get("chain-web", entry["month"]).file_bytes()  # type: ignore[union-attr]
                files.append(read_statement_file(entry["month"], body))
            checks = {KEY.key_id: PublicKey(KEY.private.public_key()).check}
            assert [v.month for v in verify_chain(files, checks)] == ["2026-09", "2026-10"]

            missing = request(f"{url}/api/v1/statements/2026-11")
            assert (missing.status, missing.body) == (
                404,
                {"error": "no statement of chain-web for 2026-11"},
            )
            bad = request(f"{url}/api/v1/statements/2026-13")
            assert (bad.status, bad.body) == (
                422,
                {"error": "month: expected YYYY-MM, got '2026-13'"},
            )
    finally:
        engine.dispose()


def test_without_a_key_the_key_is_a_404(store_url: str) -> None:
    engine = connect(store_url)
    migrate(engine)
    app = create_app(CONTRACT, Events(), ObservationStore(engine), TokenStore(engine), Clock(START))
    mount_statements_api(app, PublishedStatements("chain-web", StatementStore(engine), None))
    try:
        with serving(app) as url:
            assert request(f"{url}/api/v1/statements").body == {
                "contract": "chain-web",
                "key_url": None,
                "statements": [],
            }
            reply = request(f"{url}/api/v1/statements/key")
            assert (reply.status, reply.body) == (
                404,
                {"error": "this server signs no statements (serve --signing-key)"},
            )
    finally:
        engine.dispose()

from tests.support.security_fixtures import (  # noqa: F401 - fixtures
    es_key,
    issuer_entry,
    jwks_http,
    make_client,
    rs_key,
    secure_client,
    stranger_key,
)

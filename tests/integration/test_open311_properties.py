"""Property-based tests: random and hostile input never breaks the Open311 contract."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import create_app
from cases.api_keys import create_api_key
from cases.models import Case
from settings import ROOT
from tests.fakes import FakeNLU
from tests.open311_schemas import post_response_validator, validate

TRIED = {"post": 0, "get": 0}
FIELDS = [
    "api_key",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "email",
    "phone",
    "first_name",
    "last_name",
    "media_url",
    "jurisdiction_id",
    "device_id",
    "account_id",
    "attribute[size]",
    "attribute[problem]",
    "attribute[noise_type]",
    "attribute[x]",
    "attribute[",
    "attribute[]",
]
hostile = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "null",
            "NaN",
            "inf",
            "-1e309",
            "1e309",
            "90.0000001",
            "-180",
            "0x10",
            "311-000001",
            "'; DROP TABLE cases; --",
            "<script>x</script>",
            "PW-POTHOLE",
            "HI-NOHEAT",
            "PD-NOISE",
            "large",
            "no_heat",
            "\x00",
            "é" * 300,
            "4111 1111 1111 1111",
            "a@b.co",
            "http://x.example/p.jpg",
        ]
    ),
    st.text(min_size=3990, max_size=4010, alphabet="ab "),
)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from cases.migrate import upgrade
    from settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    upgrade(url)
    app = create_app(
        Settings.from_env({}, database_url=url, twilio_auth_token="x", rate_limits=False),
        nlu=FakeNLU(),
    )
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="fuzz")
    yield app.test_client(), key, runtime
    report = ROOT / "reports" / "open311-property-tests.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps(TRIED))


def cases(runtime) -> int:
    with runtime.Session() as s:
        return s.scalar(select(func.count()).select_from(Case))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(st.sampled_from(FIELDS), hostile, max_size=10),
    use_key=st.booleans(),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_random_posts_answer_in_open311_shape_and_never_half_write(api, form, use_key, fmt):
    client, key, runtime = api
    TRIED["post"] += 1
    if use_key:
        form["api_key"] = key
    before = cases(runtime)
    resp = client.post(f"/open311/v2/requests.{fmt}", data=form)
    assert resp.status_code in {201, 400, 403, 404}, resp.data[:300]
    after = cases(runtime)
    assert after == before + (resp.status_code == 201)
    if fmt == "json":
        body = resp.get_json()
        assert isinstance(body, list) and body
        if resp.status_code == 201:
            post_response_validator().validate(body)
        else:
            assert body[0]["code"] == resp.status_code and body[0]["description"]
    else:
        assert resp.data.startswith(b"<?xml")


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "service_request_id",
                "service_code",
                "status",
                "start_date",
                "end_date",
                "jurisdiction_id",
                "page",
                "x",
            ]
        ),
        st.one_of(
            hostile,
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
            st.sampled_from(
                ["open", "closed", "open,closed", "PW-POTHOLE,DOT-SIGNAL", "311-000001,311-000002"]
            ),
        ),
        max_size=5,
    )
)
def test_random_searches_answer_in_open311_shape(api, params):
    client, _, _ = api
    TRIED["get"] += 1
    resp = client.get("/open311/v2/requests.json?" + urlencode(params))
    assert resp.status_code in {200, 400, 404}, resp.data[:300]
    body = resp.get_json()
    assert isinstance(body, list)
    if resp.status_code == 200:
        validate("requests.json", body)
        assert len(body) <= 1000
    else:
        assert body[0]["code"] == resp.status_code

"""The Google Ads API v25 simulator (mounted at `/google`), faithful to
../shared/platforms/google-ads-api.md; `/google` stands for both googleads.googleapis.com and
Google's OAuth hosts.

    GET  /google/o/oauth2/v2/auth          consent (accounts.google.com): redirects back with
                                           code & state; `login_hint` picks the user
    POST /google/oauth2/v3/token           authorization_code / refresh_token (form body)
    GET  /google/v25/customers:listAccessibleCustomers
    POST /google/v25/customers/{cid}/{campaignBudgets|campaigns|adGroups|adGroupAds|
                                      adGroupCriteria|ads|labels|adGroupAdLabels}:mutate
    POST /google/v25/customers/{cid}/googleAds:mutate       atomic, temporary ids
    POST /google/v25/customers/{cid}/googleAds:search       GAQL, fixed pages of 10,000; with
                                           FROM campaign also metrics.* by segments.date
                                           (google_ads_reports.py)
    POST /google/v25/customers/{cid}/googleAds:searchStream GAQL, a JSON array of batches
    /_sim/google/…                         admin (google_ads_admin.py)

Every API request: bearer token with the `adwords` scope (401/403), the customer reachable by
the user directly or through the manager named in `login-customer-id` (403
USER_PERMISSION_DENIED), the Cloud project's daily operations for its access level (429
RESOURCE_EXHAUSTED), the per-customer rate (429 RESOURCE_TEMPORARILY_EXHAUSTED with
`retryDelay`), then the request itself. `developer-token` is accepted and ignored (sunset
2026-09-09, §1). Every answer carries a `request-id` header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from flightdeck.simulators import google_ads_admin, google_ads_reports
from flightdeck.simulators import performance_sources as sources
from flightdeck.simulators.google_ads_errors import (
    AdsError,
    ads_error_response,
    failure,
    plain_error,
    quota_error,
    render_google_fault,
    request_id,
    single,
)
from flightdeck.simulators.google_ads_gaql import (
    Query,
    QueryError,
    Row,
    field_mask,
    parse,
    project,
    run,
)
from flightdeck.simulators.google_ads_mutate import (
    BY_OPERATION_KEY,
    KINDS,
    MAX_OPERATIONS,
    Kind,
    MutateOutcome,
    Mutator,
    mutable_resource,
    run_operations,
)
from flightdeck.simulators.google_ads_state import SCOPE, GoogleGrant, TokenError
from flightdeck.simulators.routing import SimulatorError, SimulatorRoute
from flightdeck.simulators.state import SimulatorState, StateDep

__all__ = ["admin_router", "render_google_fault", "router"]

VERSION = "v25"
CHANGE_EVENT_MAX_DAYS = 30
MUTATE_KEYS = frozenset({"operations", "partialFailure", "validateOnly", "responseContentType"})
ADS_MUTATE_KEYS = frozenset(
    {"mutateOperations", "partialFailure", "validateOnly", "responseContentType"}
)
SEARCH_KEYS = frozenset({"query", "pageToken", "pageSize", "validateOnly", "searchSettings"})
_CUSTOMER_PATH = re.compile(r"^customers/([^/]+)/([A-Za-z]+):(mutate|search|searchStream)$")


class GoogleRoute(SimulatorRoute):
    async def finalize(self, request: Request, response: Response) -> None:
        if "request-id" not in response.headers:
            response.headers["request-id"] = request_id()


router = APIRouter(route_class=GoogleRoute)
admin_router = google_ads_admin.router


# -- OAuth ------------------------------------------------------------------------------------


@router.get("/o/oauth2/v2/auth")
async def authorize(request: Request, state: StateDep) -> Response:
    """Google's consent screen, approved at once by `login_hint` (default: the agency user)."""
    query = request.query_params
    app = state.google.oauth.apps.get(query.get("client_id", ""))
    if app is None or query.get("redirect_uri") != app.redirect_uri:
        # Google shows "Error 400: redirect_uri_mismatch" / "invalid_client" to the user.
        return JSONResponse({"error": "redirect_uri_mismatch"}, status_code=400)
    back = {"state": query.get("state", "")}
    scopes = frozenset(query.get("scope", "").split())
    if query.get("response_type") != "code":
        back["error"] = "unsupported_response_type"
    elif SCOPE not in scopes:
        back["error"] = "invalid_scope"
    else:
        email = query.get("login_hint") or google_ads_admin.DEFAULT_USER
        grant = GoogleGrant(app.client_id, email, scopes)
        back["code"] = state.google.oauth.mint_code(
            grant,
            app.redirect_uri,
            query.get("code_challenge"),
            offline=query.get("access_type") == "offline",
        )
        back["scope"] = " ".join(sorted(scopes))
    return RedirectResponse(f"{app.redirect_uri}?{urlencode(back)}", status_code=302)


@router.post("/oauth2/v3/token")
async def token(request: Request, state: StateDep) -> JSONResponse:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
    oauth = state.google.oauth
    app = oauth.authenticate(client_id, secret)
    if app is None:
        return _token_error(TokenError("invalid_client", "Unauthorized", 401))
    try:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            answer = oauth.exchange(
                app, form.get("code", ""), form.get("redirect_uri"), form.get("code_verifier")
            )
        elif grant_type == "refresh_token":
            answer = oauth.renew(app, form.get("refresh_token", ""))
        else:
            raise TokenError("unsupported_grant_type", "Invalid grant_type: " + str(grant_type))
    except TokenError as exc:
        return _token_error(exc)
    return JSONResponse(answer)


def _token_error(error: TokenError) -> JSONResponse:
    return JSONResponse(
        {"error": error.error, "error_description": error.description}, status_code=error.status
    )


# -- the API ----------------------------------------------------------------------------------


@router.get(f"/{VERSION}/customers:listAccessibleCustomers")
async def list_accessible_customers(request: Request, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        grant = _grant(request, state)
        reachable = sorted(state.google.users.get(grant.email, set()))
    return {"resourceNames": [f"customers/{cid}" for cid in reachable]}


@router.post(f"/{VERSION}/{{rest:path}}")
async def customer_call(rest: str, request: Request, state: StateDep) -> Any:
    match = _CUSTOMER_PATH.match(rest)
    if match is None:
        raise plain_error(404, f"Method not found: /{VERSION}/{rest}")
    customer_id, service, method = match.groups()
    body = await _json(request)
    if service == "googleAds" and method in ("search", "searchStream"):
        stream = method == "searchStream"
        try:
            async with state.lock:
                customer = _authorize(request, state, customer_id, 1)
                return _search(state, customer, body, stream=stream)
        except SimulatorError as exc:
            if stream:  # errors of a stream come wrapped in a JSON array too (§4)
                return JSONResponse([exc.body], status_code=exc.status_code, headers=exc.headers)
            raise
    if method != "mutate" or (service != "googleAds" and service not in KINDS):
        raise plain_error(404, f"Method not found: /{VERSION}/{rest}")
    atomic = service == "googleAds"
    operations = _operations(body, None if atomic else KINDS[service])
    async with state.lock:
        customer = _authorize(request, state, customer_id, max(1, len(operations)))
        grant = _grant(request, state)
        if len(operations) > MAX_OPERATIONS:
            raise single(
                400,
                "requestError",
                "TOO_MANY_MUTATE_OPERATIONS",
                f"At most {MAX_OPERATIONS} operations per request.",
            )
        mutator = Mutator(state.google, state.objects["google"], customer["id"], grant.email)
        outcome = run_operations(
            mutator,
            operations,
            partial_failure=bool(body.get("partialFailure")),
            validate_only=bool(body.get("validateOnly")),
            operation_prefix=(lambda kind: (_snake(kind.operation_key),))
            if atomic
            else (lambda kind: ()),
        )
        # Delivery follows status and budget (a rolled-back request left no events).
        sources.google_changed(state, mutator.tx.events)
        return _mutate_answer(state, body, operations, outcome, atomic)


def _operations(body: dict[str, Any], service: Kind | None) -> list[tuple[Kind, Any]]:
    """The request's operations with their resource: the service's, or (googleAds:mutate,
    `service` None) each one's own `…Operation` key."""
    atomic = service is None
    allowed = ADS_MUTATE_KEYS if atomic else MUTATE_KEYS
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise single(
            400,
            "requestError",
            "INVALID_INPUT",
            f'Invalid JSON payload received. Unknown name "{unknown[0]}".',
        )
    key = "mutateOperations" if atomic else "operations"
    raw = body.get(key)
    if not isinstance(raw, list) or not raw:
        raise ads_error_response(
            400, [AdsError("fieldError", "REQUIRED", f"{key} is required.", path=(key,))]
        )
    if service is not None:
        return [(service, op) for op in raw]
    operations: list[tuple[Kind, Any]] = []
    for index, item in enumerate(raw):
        keys = list(item) if isinstance(item, dict) else []
        if len(keys) != 1 or keys[0] not in BY_OPERATION_KEY:
            error = AdsError(
                "requestError",
                "INVALID_INPUT",
                "Each mutate operation holds exactly one known operation.",
                operation=index,
            )
            raise ads_error_response(400, [error], operations_field="mutate_operations")
        operations.append((BY_OPERATION_KEY[keys[0]], item[keys[0]]))
    return operations


def _mutate_answer(
    state: SimulatorState,
    body: dict[str, Any],
    operations: list[tuple[Kind, Any]],
    outcome: MutateOutcome,
    atomic: bool,
) -> dict[str, Any]:
    field = "mutate_operations" if atomic else "operations"
    if outcome.errors and not body.get("partialFailure"):
        raise ads_error_response(400, outcome.errors, operations_field=field)
    if body.get("validateOnly"):
        return {}
    with_resource = body.get("responseContentType") == "MUTABLE_RESOURCE"
    results: list[dict[str, Any]] = []
    for (kind, _), result in zip(operations, outcome.results, strict=True):
        if result is None:
            results.append({})
            continue
        entry = dict(result)
        if with_resource:
            resource = mutable_resource(
                state.objects["google"], kind.collection, result["resourceName"]
            )
            if resource is not None:
                entry[_camel(kind.resource)] = resource
        results.append({kind.result_key: entry} if atomic else entry)
    answer: dict[str, Any] = {"mutateOperationResponses" if atomic else "results": results}
    if outcome.errors:
        first = outcome.errors[0]
        rid = request_id()
        answer["partialFailureError"] = {
            "code": 3,
            "message": f"Multiple errors in 'details'. First error: {first.message}, at "
            f"{field}[{first.operation}]",
            "details": [failure(outcome.errors, field, rid)],
        }
    return answer


# -- auth and quotas --------------------------------------------------------------------------


def _grant(request: Request, state: SimulatorState) -> GoogleGrant:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise single(
            401,
            "authenticationError",
            "OAUTH_TOKEN_HEADER_INVALID",
            "The OAuth token in the request header is not valid.",
        )
    grant, why = state.google.oauth.caller(value.strip())
    if grant is None:
        raise single(
            401,
            "authenticationError",
            why,
            "Request is missing required authentication credential.",
        )
    if SCOPE not in grant.scopes:
        raise plain_error(403, "Request had insufficient authentication scopes.")
    return grant


def _authorize(
    request: Request, state: SimulatorState, customer_id: str, operations: int
) -> dict[str, Any]:
    """The customer the request acts on, after access and quota checks; counts `operations`."""
    grant = _grant(request, state)
    customers = state.objects["google"]["customers"]
    if not re.fullmatch(r"\d{10}", customer_id):
        raise single(
            400,
            "requestError",
            "INVALID_CUSTOMER_ID",
            "The customer ID is 10 digits without hyphens.",
            trigger=customer_id,
        )
    login = request.headers.get("login-customer-id")
    if login is not None and not re.fullmatch(r"\d{10}", login.strip()):
        raise single(
            400,
            "requestError",
            "INVALID_INPUT",
            "login-customer-id must be 10 digits without hyphens.",
            trigger=login,
        )
    direct = state.google.users.get(grant.email, set())
    customer = customers.get(customer_id)
    allowed = False
    if customer is not None:
        if login is None:
            allowed = customer_id in direct
        else:
            manager = customers.get(login.strip(), {})
            allowed = login.strip() in direct and (
                login.strip() == customer_id or customer_id in manager.get("_clients", [])
            )
    if not allowed:
        raise single(
            403,
            "authorizationError",
            "USER_PERMISSION_DENIED",
            "User doesn't have permission to access customer. Note: If you're "
            "accessing a client customer, the manager's customer id must be set in "
            "the 'login-customer-id' header.",
        )
    assert customer is not None
    app = state.google.oauth.apps[grant.client_id]
    if app.access_level == "TEST" and not customer.get("testAccount"):
        raise single(
            403,
            "authorizationError",
            "CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION",
            "The Cloud project's access level only reaches test accounts.",
        )
    limit = state.google.daily_limit(app, bool(customer.get("testAccount")))
    if not state.google.take_daily(app.client_id, operations, limit):
        raise quota_error(
            "RESOURCE_EXHAUSTED",
            "Too many requests. Retry in 24 hours or apply for a higher access level.",
            scope="DEVELOPER",
            rate_name=f"Number of operations for {app.access_level.lower()} access",
            retry_delay=None,
        )
    wait = state.google.take_rate(customer_id, operations)
    if wait is not None:
        raise quota_error(
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests. Retry in the time given.",
            scope="ACCOUNT",
            rate_name="Operations per minute per customer",
            retry_delay=float(int(wait + 0.999)),
        )
    return customer


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise single(
            400, "requestError", "INVALID_INPUT", "Invalid JSON payload received."
        ) from None
    if not isinstance(body, dict):
        raise single(400, "requestError", "INVALID_INPUT", "The body must be a JSON object.")
    return body


# -- GAQL -------------------------------------------------------------------------------------


def _search(
    state: SimulatorState, customer: dict[str, Any], body: dict[str, Any], *, stream: bool
) -> Any:
    unknown = sorted(set(body) - (SEARCH_KEYS | {"summaryRowSetting"}))
    if unknown:
        raise single(
            400,
            "requestError",
            "INVALID_INPUT",
            f'Invalid JSON payload received. Unknown name "{unknown[0]}".',
        )
    if "pageSize" in body:
        raise single(
            400,
            "requestError",
            "PAGE_SIZE_NOT_SUPPORTED",
            "Setting the page size is not supported; pages hold 10,000 rows.",
        )
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise single(400, "requestError", "INVALID_INPUT", "query is required.")
    try:
        query = parse(text)
        if query.resource == "change_event":
            _check_change_event_query(query)
    except QueryError as exc:
        raise ads_error_response(400, [exc.error]) from None
    try:
        found = _rows(state, customer, query.resource)
        if query.resource == "campaign" and google_ads_reports.wants_metrics(query):
            found = google_ads_reports.metric_rows(state, customer, query, found)
    except QueryError as exc:
        raise ads_error_response(400, [exc.error]) from None
    rows = run(query, found)
    mask = field_mask(query.fields)
    if body.get("validateOnly"):
        return {"fieldMask": mask}
    projected = [project(row, query.fields) for row in rows]
    size = state.google.page_size
    if stream:
        batches = [projected[i : i + size] for i in range(0, len(projected), size)] or [[]]
        return [{"results": b, "fieldMask": mask, "requestId": request_id()} for b in batches]
    fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    start = _page_offset(body.get("pageToken"), fingerprint)
    answer: dict[str, Any] = {
        "results": projected[start : start + size],
        "fieldMask": mask,
        "queryResourceConsumption": "1",
    }
    if start + size < len(projected):
        token = json.dumps({"o": start + size, "q": fingerprint}).encode()
        answer["nextPageToken"] = base64.urlsafe_b64encode(token).decode()
    if (body.get("searchSettings") or {}).get("returnTotalResultsCount"):
        answer["totalResultsCount"] = str(len(projected))
    if not answer["results"]:
        del answer["results"]  # proto3 JSON omits an empty repeated field
    return answer


def _page_offset(token: Any, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if decoded["q"] == fingerprint and isinstance(decoded["o"], int):
            return int(decoded["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise single(400, "requestError", "INVALID_PAGE_TOKEN", "The page token is not valid.")


def _check_change_event_query(query: Query) -> None:
    """change_event needs a finite change_date_time range within 30 days and a LIMIT ≤ 10k."""
    from datetime import UTC, datetime, timedelta

    low = high = None
    for condition in query.conditions:
        if condition.field != "change_event.change_date_time":
            continue
        if condition.op == "BETWEEN":
            low, high = condition.values
        elif condition.op in (">", ">="):
            low = condition.values[0]
        elif condition.op in ("<", "<="):
            high = condition.values[0]

    def error(code: str, message: str) -> QueryError:
        return QueryError(AdsError("changeEventError", code, message))

    if low is None or high is None:
        raise error("CHANGE_DATE_RANGE_INFINITE", "A finite range on change_date_time is needed.")
    if str(low) > str(high):
        raise error("CHANGE_DATE_RANGE_NEGATIVE", "The range starts after it ends.")
    oldest = (datetime.now(UTC) - timedelta(days=CHANGE_EVENT_MAX_DAYS)).strftime("%Y-%m-%d")
    if str(low)[:10] < oldest:
        raise error("START_DATE_TOO_OLD", "The start date cannot be older than 30 days.")
    if query.limit is None:
        raise error("LIMIT_NOT_SPECIFIED", "A change_event query needs a LIMIT.")
    if query.limit > 10_000:
        raise error("INVALID_LIMIT_CLAUSE", "LIMIT must be at most 10,000.")


def _rows(state: SimulatorState, customer: dict[str, Any], resource: str) -> list[Row]:
    objects = state.objects["google"]
    prefix = f"customers/{customer['id']}/"

    def mine(collection: str) -> list[dict[str, Any]]:
        return [o for n, o in objects[collection].items() if n.startswith(prefix)]

    def get(collection: str, name: str | None) -> dict[str, Any]:
        return objects[collection].get(name or "", {})

    base: Row = {"customer": _public(customer)}
    if resource == "customer":
        return [base]
    if resource == "customer_client":
        rows = [{**base, "customerClient": _client_row(customer, customer, 0)}]
        for client_id in customer.get("_clients", []):
            client = objects["customers"].get(client_id)
            if client is not None:
                rows.append({**base, "customerClient": _client_row(customer, client, 1)})
        return rows
    if resource == "campaign_budget":
        return [{**base, "campaignBudget": b} for b in mine("campaignBudgets")]
    if resource == "campaign":
        return [
            {**base, "campaign": c, "campaignBudget": get("campaignBudgets", c["campaignBudget"])}
            for c in mine("campaigns")
        ]
    if resource == "ad_group":
        return [
            {**base, "adGroup": g, "campaign": get("campaigns", g["campaign"])}
            for g in mine("adGroups")
        ]
    if resource in ("ad_group_ad", "ad_group_criterion"):
        collection = "adGroupAds" if resource == "ad_group_ad" else "adGroupCriteria"
        key = "adGroupAd" if resource == "ad_group_ad" else "adGroupCriterion"
        rows = []
        for obj in mine(collection):
            group = get("adGroups", obj["adGroup"])
            rows.append(
                {
                    **base,
                    key: obj,
                    "adGroup": group,
                    "campaign": get("campaigns", group.get("campaign")),
                }
            )
        return rows
    if resource == "label":
        return [{**base, "label": label} for label in mine("labels")]
    if resource == "ad_group_ad_label":
        rows = []
        for link in mine("adGroupAdLabels"):
            ad = get("adGroupAds", link["adGroupAd"])
            rows.append(
                {
                    **base,
                    "adGroupAdLabel": link,
                    "adGroupAd": ad,
                    "adGroup": get("adGroups", ad.get("adGroup")),
                    "label": get("labels", link["label"]),
                }
            )
        return rows
    if resource == "change_event":
        return [{**base, "changeEvent": e} for e in mine("changeEvents")]
    return []


def _public(customer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in customer.items() if not k.startswith("_")}


def _client_row(manager: dict[str, Any], client: dict[str, Any], level: int) -> dict[str, Any]:
    return {
        "resourceName": f"customers/{manager['id']}/customerClients/{client['id']}",
        "clientCustomer": client["resourceName"],
        "id": client["id"],
        "descriptiveName": client["descriptiveName"],
        "currencyCode": client["currencyCode"],
        "timeZone": client["timeZone"],
        "manager": client["manager"],
        "testAccount": client["testAccount"],
        "level": str(level),
        "status": client["status"],
    }


def _camel(resource: str) -> str:
    head, *rest = resource.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

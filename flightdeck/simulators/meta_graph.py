"""The Meta Graph API simulator, mounted at `/graph` (graph.facebook.com in production), beside the
Strategis relay and sharing its Facebook object store (the relay is a front onto the same
Facebook). Paths are Graph's, under a version prefix (`/graph/v23.0/act_1/campaigns`):

    GET  /me, /me/businesses, /me/adaccounts, /me/accounts (Pages with Page tokens)
    GET  /{page}?fields=instagram_business_account, /{page}/instagram_accounts, /{ig-user}
    GET  /act_{id}[?fields=]                      the ad account (currency, account_status …)
    POST /act_{id}/adimages                       bytes (base64) or a file -> hash (md5)
    GET  /act_{id}/adimages?hashes=[..]
    POST /act_{id}/{campaigns|adsets|adcreatives|ads}    create, or validate_only
    GET  /act_{id}/{campaigns|adsets|adcreatives|ads}    list: fields, filtering,
                                                         effective_status, limit/after, summary
    GET  /{id}?fields=, GET /?ids=a,b&fields=, POST /{id} (update), DELETE /{id}
    GET|POST /{act_X|campaign|adset|ad}/insights, GET /{report_run_id}[/insights]  (Insights,
                                                  meta_insights.py); POST / batch=[GET …]
    GET  /oauth/access_token, /debug_token         (meta_oauth.py)

Every call needs `access_token` (and `appsecret_proof` when the app requires it, which the
registered apps do by default); calls on an ad account's objects count against its quota and
carry the usage headers (`meta_usage.py`); new ads go through review (`meta_review.py`).
Errors are Graph's envelope (`graph_errors.py`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from flightdeck.simulators import meta_insights
from flightdeck.simulators.graph_errors import graph_error, nonexistent_object
from flightdeck.simulators.meta_call import Caller, Params, authenticate, read_params
from flightdeck.simulators.meta_oauth import check_version
from flightdeck.simulators.meta_objects import AD_KINDS, GraphObjects, narrow, page
from flightdeck.simulators.meta_sdk_spec import check_params, decode_form, spec
from flightdeck.simulators.meta_usage import AccountUsage, with_headers
from flightdeck.simulators.routing import SimulatorError, SimulatorRoute, record_created
from flightdeck.simulators.state import SimulatorState, StateDep

router = APIRouter(route_class=SimulatorRoute)
SINGULAR = {"campaigns": "campaign", "adsets": "adset", "ads": "ad", "adcreatives": "adcreative"}
MAX_BATCH = 50


@router.api_route("/{version}", methods=["GET", "POST"])
@router.api_route("/{version}/{path:path}", methods=["GET", "POST", "DELETE"])
async def graph(version: str, request: Request, state: StateDep, path: str = "") -> JSONResponse:
    check_version(version)
    params = await read_params(request)
    segments = [s for s in path.split("/") if s]
    async with state.lock:
        caller = authenticate(state.meta, params)
        call = GraphCall(state, caller, params, request)
        return call.dispatch(request.method, segments)


class GraphCall:
    """One authenticated Graph request."""

    def __init__(
        self, state: SimulatorState, caller: Caller, params: Params, request: Request
    ) -> None:
        self.state = state
        self.caller = caller
        self.params = params
        self.request = request
        self.world = state.objects["meta"]
        self.objects = GraphObjects(state, caller)
        self.headers: dict[str, str] = {}

    def dispatch(self, method: str, segments: list[str]) -> JSONResponse:
        self._audit_sdk_types(method, segments)
        try:
            body = self._route(method, segments)
        except SimulatorError as error:
            raise with_headers(error, self.headers) from None
        return JSONResponse(body, headers=self.headers)

    def _audit_sdk_types(self, method: str, segments: list[str]) -> None:
        """Note every parameter the official SDK would not send as typed (strict: unknown
        ones too) in `/_sim/meta/sdk-problems`: the tests' check of our own client."""
        endpoint = None
        if len(segments) == 2 and segments[0].startswith("act_"):
            endpoint = f"{method} act/{segments[1]}"
        elif len(segments) == 1 and method in ("POST", "DELETE"):
            found = self.objects.find(segments[0])
            if found is not None:
                endpoint = f"{method} {SINGULAR[found[0]]}"
        if endpoint is None or endpoint not in spec()["endpoints"]:
            return
        for problem in check_params(endpoint, self.params.values, strict=True):
            self.state.meta.sdk_problems.append(f"{method} /{'/'.join(segments)}: {problem}")

    def _route(self, method: str, segments: list[str]) -> Any:
        fields = self.params.get("fields")
        if not segments:
            return self._batch() if method == "POST" else self._ids(fields)
        head, edge = segments[0], segments[1] if len(segments) > 1 else None
        if len(segments) > 2:
            raise _unknown_path(self.request)
        if meta_insights.is_report_run(self, head):
            if method != "GET":
                raise _unknown_path(self.request)
            return meta_insights.report_run(self, head, edge)
        if edge == "insights" and method in ("GET", "POST"):
            return meta_insights.insights(self, method, head)
        if head == "me":
            return self._me(edge, fields)
        if head.startswith("act_"):
            return self._account(method, head, edge, fields)
        return self._node(method, head, edge, fields)

    # -- the user and what it can see ----------------------------------------------------------

    def _me(self, edge: str | None, fields: Any) -> dict[str, Any]:
        user = self.world["users"][self.caller.user_id]
        if edge is None:
            return narrow({"id": user["id"], "name": user["name"]}, fields or "name")
        if edge == "businesses":
            self.caller.require("business_management")
            items = [self.world["businesses"][b] for b in user["business_ids"]]
        elif edge == "adaccounts":
            self.caller.require("ads_management", "ads_read")
            items = [_account_view(a) for a in self.objects.accounts.values()]
        elif edge == "accounts":
            self.caller.require("pages_show_list")
            items = [self._page_view(p) for p in self._pages()]
        else:
            raise _unknown_path(self.request)
        return page(items, self.params, fields or "name")

    def _pages(self) -> list[dict[str, Any]]:
        return [p for p in self.world["pages"].values() if self.caller.user_id in p["users"]]

    def _page_view(self, page_obj: dict[str, Any]) -> dict[str, Any]:
        """A Page as /me/accounts lists it, with a Page token for this user."""
        from flightdeck.simulators.meta_state import Token

        view = {k: v for k, v in page_obj.items() if k != "users"}
        if not self.caller.has("instagram_basic"):
            view.pop("instagram_business_account", None)
        token = Token(
            kind="PAGE",
            user_id=self.caller.user_id,
            app_id=self.caller.token.app_id,
            scopes=self.caller.token.scopes,
            expires_at=0,  # from a long-lived user token (quoted, UNCONFIRMED: never expires)
            issued_at=self.caller.token.issued_at,
            page_id=page_obj["id"],
        )
        view["access_token"] = self.state.meta.issue(token)
        return view

    # -- ad accounts ---------------------------------------------------------------------------

    def _account(self, method: str, act_id: str, edge: str | None, fields: Any) -> dict[str, Any]:
        self.caller.require("ads_management", "ads_read")
        account = self.objects.account(act_id)
        self._count(account)
        if edge is None:
            if method != "GET":
                raise _unknown_path(self.request)
            return narrow(_account_view(account), fields)
        if edge == "adimages":
            if method == "POST":
                return self.objects.upload_image(account, self.params)
            return page(self.objects.list_images(account, self.params), self.params, fields)
        if edge not in AD_KINDS:
            raise _unknown_path(self.request)
        if method == "POST":
            answer = self.objects.create(account, edge, self.params)
            if "id" in answer:
                record_created(self.request, answer["id"])
            return answer
        return page(self.objects.list(account, edge, self.params), self.params, fields)

    def _count(self, account: dict[str, Any], cost: int = 1) -> None:
        usage = AccountUsage(self.state.meta, account["id"], account["business"]["id"])
        self.headers = usage.admit(cost)

    # -- nodes by id ---------------------------------------------------------------------------

    def _node(self, method: str, node_id: str, edge: str | None, fields: Any) -> dict[str, Any]:
        found = self.objects.find(node_id)
        if found is not None:
            kind, obj = found
            self._count(self.objects.accounts[f"act_{obj['account_id']}"])
            if edge is not None:
                return self._children(kind, obj, edge, fields)
            if method == "POST":
                return self.objects.update(kind, obj, self.params)
            if method == "DELETE":
                return self.objects.delete(kind, obj)
            return narrow(self.objects.view(kind, obj), fields)
        if method != "GET":
            raise nonexistent_object(node_id, method=method.lower())
        return self._world_node(node_id, edge, fields)

    def _children(self, kind: str, obj: dict[str, Any], edge: str, fields: Any) -> dict[str, Any]:
        parent_field = {"campaigns": "campaign_id", "adsets": "adset_id"}.get(kind)
        if parent_field is None or edge not in ("adsets", "ads"):
            raise _unknown_path(self.request)
        account = self.objects.accounts[f"act_{obj['account_id']}"]
        items = [
            item
            for item in self.objects.list(account, edge, self.params)
            if item.get(parent_field) == obj["id"]
        ]
        return page(items, self.params, fields)

    def _world_node(self, node_id: str, edge: str | None, fields: Any) -> dict[str, Any]:
        page_obj = self.world["pages"].get(node_id)
        if page_obj is not None and self.caller.user_id in page_obj["users"]:
            self.caller.require("pages_show_list")
            if edge == "instagram_accounts":
                self.caller.require("instagram_basic")
                linked = page_obj.get("instagram_business_account")
                items = [self.world["instagram_accounts"][linked["id"]]] if linked else []
                return page(items, self.params, fields or "username")
            if edge is None:
                view = {k: v for k, v in page_obj.items() if k != "users"}
                if not self.caller.has("instagram_basic"):
                    view.pop("instagram_business_account", None)
                return narrow(view, fields or "name")
        instagram = self.world["instagram_accounts"].get(node_id)
        if instagram is not None and edge is None:
            self.caller.require("instagram_basic")
            page_obj = self.world["pages"][instagram["page"]]
            if self.caller.user_id in page_obj["users"]:
                return narrow(instagram, fields or "username")
        business = self.world["businesses"].get(node_id)
        if business is not None and edge is None:
            self.caller.require("business_management")
            return narrow(business, fields or "name")
        raise nonexistent_object(node_id, method="get")

    def _batch(self) -> list[dict[str, Any]]:
        """Graph's batch request (reads only): each `{"method": "GET", "relative_url"}` answered
        as `{code, headers, body}` with the body a JSON string, in order."""
        batch = self.params.get("batch")
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
            raise graph_error(
                400, f"(#100) batch must be a list of 1 to {MAX_BATCH} requests", code=100
            )
        answers = []
        for item in batch:
            if not isinstance(item, dict) or str(item.get("method", "GET")).upper() != "GET":
                raise graph_error(400, "(#100) the simulator's batch takes GET requests", code=100)
            path, _, query = str(item.get("relative_url", "")).partition("?")
            params = Params({**self.params.values, **decode_form(dict(parse_qsl(query)))})
            params.values.pop("batch", None)
            call = GraphCall(self.state, self.caller, params, self.request)
            try:
                body, code = call._route("GET", [s for s in path.split("/") if s]), 200
            except SimulatorError as error:
                body, code = error.body, error.status_code
            headers = [{"name": k, "value": v} for k, v in call.headers.items()]
            answers.append({"code": code, "headers": headers, "body": json.dumps(body)})
        return answers

    def _ids(self, fields: Any) -> dict[str, Any]:
        ids = self.params.get("ids")
        if isinstance(ids, str):
            ids = [i for i in ids.split(",") if i]
        if not isinstance(ids, list) or not ids:
            raise graph_error(400, "(#100) Missing ids parameter", code=100)
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for node_id in map(str, ids):
            item = self.objects.find(node_id)
            if item is None:
                raise nonexistent_object(node_id, method="get")
            found[node_id] = item
        by_account: dict[str, int] = {}
        for _, obj in found.values():
            by_account[f"act_{obj['account_id']}"] = (
                by_account.get(f"act_{obj['account_id']}", 0) + 1
            )
        for act_id, cost in by_account.items():
            self._count(self.objects.accounts[act_id], cost)
        return {
            node_id: narrow(self.objects.view(k, o), fields) for node_id, (k, o) in found.items()
        }


def _account_view(account: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in account.items() if k != "users"}
    if view.get("funding_source_details") is None:
        view.pop("funding_source_details", None)
    return view


def _unknown_path(request: Request) -> SimulatorError:
    return graph_error(
        400, f"Unknown path components: {request.url.path}", code=2500, error_type="OAuthException"
    )

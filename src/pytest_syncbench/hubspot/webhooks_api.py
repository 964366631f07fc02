"""Handlers of the webhooks management API, ``/webhooks/v3/{appId}``.

HubSpot authenticates these calls with the developer account's API key in the ``hapikey``
query parameter, not with the app's access token, and does not count them against the
CRM API rate limits. Shapes follow HubSpot's webhooks v3 API reference.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.errors import JSON, not_found, validation_error
from pytest_syncbench.hubspot.webhooks import (
    Subscription,
    SubscriptionError,
    WebhookDispatcher,
)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type=JSON)


def _object_body(body: bytes) -> dict[str, Any]:
    payload = orjson.loads(body) if body else None
    if not isinstance(payload, dict):
        raise validation_error("The request body must be a JSON object.")
    return payload


class WebhooksApi:
    """Settings and subscriptions of the mock's one app."""

    def __init__(self, dispatcher: WebhookDispatcher, config: HubSpotConfig) -> None:
        self.dispatcher = dispatcher
        self.config = config

    def authorize(self, request: web.Request) -> bool:
        return request.rel_url.query.get("hapikey") == self.config.developer_api_key

    def _check_app(self, request: web.Request) -> None:
        app_id = request.match_info["app_id"]
        if app_id != str(self.config.app_id):
            raise not_found(f"App {app_id} not found for this developer account.")

    def _subscription(self, request: web.Request) -> Subscription:
        self._check_app(request)
        raw = request.match_info["subscription_id"]
        subscription = (
            self.dispatcher.subscriptions.get(int(raw)) if raw.isdigit() else None
        )
        if subscription is None:
            raise not_found(f"Subscription {raw} not found.")
        return subscription

    async def get_settings(self, request: web.Request, body: bytes) -> web.Response:
        self._check_app(request)
        settings = self.dispatcher.settings
        if settings is None:
            raise not_found(f"No webhook settings for app {self.config.app_id}.")
        return _json(settings.to_json())

    async def put_settings(self, request: web.Request, body: bytes) -> web.Response:
        self._check_app(request)
        payload = _object_body(body)
        target_url = payload.get("targetUrl")
        if not isinstance(target_url, str):
            raise validation_error("targetUrl is required and must be a string.")
        throttling = payload.get("throttling") or {}
        if not isinstance(throttling, dict):
            raise validation_error("throttling must be an object.")
        concurrency = throttling.get("maxConcurrentRequests")
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int)
        ):
            raise validation_error(
                "throttling.maxConcurrentRequests must be an integer."
            )
        period = throttling.get("period", "SECONDLY")
        try:
            settings = self.dispatcher.configure(target_url, concurrency, str(period))
        except SubscriptionError as error:
            raise validation_error(str(error)) from None
        return _json(settings.to_json())

    async def delete_settings(self, request: web.Request, body: bytes) -> web.Response:
        self._check_app(request)
        self.dispatcher.clear_settings()
        return web.Response(status=204)

    async def list_subscriptions(
        self, request: web.Request, body: bytes
    ) -> web.Response:
        self._check_app(request)
        results = [s.to_json() for s in self.dispatcher.subscriptions.values()]
        return _json({"results": results})

    async def create_subscription(
        self, request: web.Request, body: bytes
    ) -> web.Response:
        self._check_app(request)
        payload = _object_body(body)
        event_type = payload.get("eventType")
        property_name = payload.get("propertyName")
        # HubSpot's SubscriptionCreateRequest: "Defaults to false", so a new
        # subscription starts paused (webhooks v3 spec in hubspot-api-client 12.0.0).
        active = payload.get("active", False)
        if not isinstance(event_type, str):
            raise validation_error("eventType is required and must be a string.")
        if property_name is not None and not isinstance(property_name, str):
            raise validation_error("propertyName must be a string.")
        if not isinstance(active, bool):
            raise validation_error("active must be true or false.")
        try:
            subscription = self.dispatcher.subscribe(event_type, property_name, active)
        except SubscriptionError as error:
            raise validation_error(str(error)) from None
        return _json(subscription.to_json(), status=201)

    async def get_subscription(self, request: web.Request, body: bytes) -> web.Response:
        return _json(self._subscription(request).to_json())

    async def update_subscription(
        self, request: web.Request, body: bytes
    ) -> web.Response:
        subscription = self._subscription(request)
        active = _object_body(body).get("active")
        if not isinstance(active, bool):
            raise validation_error("active is required and must be true or false.")
        return _json(self.dispatcher.set_active(subscription.id, active).to_json())

    async def delete_subscription(
        self, request: web.Request, body: bytes
    ) -> web.Response:
        subscription = self._subscription(request)
        self.dispatcher.unsubscribe(subscription.id)
        return web.Response(status=204)

"""The OpenAPI document stays true to the routes the app serves."""

from __future__ import annotations

from addon import errors
from addon.settings import STRATEGIES
from tests.conftest import AUTH, HubClientFactory

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


async def test_every_route_is_documented_and_nothing_else(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.get("/api/v1/openapi.json", headers=AUTH)
    document = await response.json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    served = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert documented == served
    assert document["openapi"].startswith("3.")


async def test_documented_error_keys_cover_the_hierarchy(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    document = await (await client.get("/api/v1/openapi.json", headers=AUTH)).json()
    keys = set(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["key"][
            "enum"
        ]
    )
    api_keys = {
        cls.key
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.HubError)
        and not issubclass(cls, errors.ProviderError)
        and cls.key != "invalid_config"
    }
    assert api_keys <= keys
    assert {"provider_auth", "provider_bad_request"} <= keys


async def test_documented_strategies_are_the_settings_ones(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    document = await (await client.get("/api/v1/openapi.json", headers=AUTH)).json()
    schemas = document["components"]["schemas"]
    named = ("ChatRequest", "EmbeddingsRequest", "ImagesRequest", "SpeechRequest")
    for name in (*named, "TranscriptionFields"):
        strategy = schemas[name]["properties"]["strategy"]
        assert set(strategy["enum"]) == {*STRATEGIES, None}, name  # null: the default

"""http_request: one HTTP call through the engine's shared httpx client.

Output ``{status_code, headers, body, elapsed_ms}``; the body is parsed when the response is
JSON. Network errors, timeouts, 429 and 5xx are retriable; other 4xx fail at once (unless
``fail_on_status`` is off). Bodies larger than ``max_response_bytes`` are refused.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import Field, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError, StepError, StepTimeout
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "HttpRequestConfig"]


class HttpRequestConfig(StepConfig):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict, description="query parameters")
    json_body: Any = Field(None, alias="json", description="a JSON body")
    body: str | None = Field(None, description="a raw text body")
    timeout_seconds: float = Field(30.0, gt=0, le=3600)
    follow_redirects: bool = True
    fail_on_status: bool = Field(True, description="fail on 4xx/5xx responses")
    max_response_bytes: int | None = Field(None, gt=0, description="default 10 MB")
    idempotency_header: str | None = Field(
        None, description="send the step's idempotency key in this header, e.g. Idempotency-Key"
    )

    model_config = StepConfig.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestConfig:
        if self.json_body is not None and self.body is not None:
            raise ValueError("set either 'json' or 'body', not both")
        return self


def _retriable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _with_params(url: str, params: dict[str, str]) -> Any:
    """The URL with ``params`` appended to its own query, which is kept byte for byte
    (repeated keys, percent-encoding); httpx's ``params=`` would replace it."""
    import httpx

    parsed = httpx.URL(url)
    if not params:
        return parsed
    extra = str(httpx.QueryParams(params)).encode()
    return parsed.copy_with(query=parsed.query + b"&" + extra if parsed.query else extra)


async def run(config: HttpRequestConfig, ctx: StepContext) -> dict[str, Any]:
    import httpx

    if not config.url.startswith(("http://", "https://")):
        raise StepConfigError(f"url must start with http:// or https://, got {config.url!r}")
    headers = dict(config.headers)
    if config.idempotency_header:
        headers[config.idempotency_header] = ctx.idempotency_key
    limit = config.max_response_bytes or ctx.services.settings.http_max_response_bytes
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.params.items()}
    started = time.perf_counter()
    try:
        request = ctx.services.http.build_request(
            config.method, _with_params(config.url, params), headers=headers,
            json=config.json_body, content=config.body,
            timeout=config.timeout_seconds,
        )
        response = await ctx.services.http.send(
            request, stream=True, follow_redirects=config.follow_redirects
        )
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise StepError(f"response too large: {declared} bytes (limit {limit})")
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise StepError(f"response too large: over {limit} bytes")
                chunks.append(chunk)
            content = b"".join(chunks)
        finally:
            await response.aclose()
    except httpx.TimeoutException as exc:
        raise StepTimeout(f"{config.method} {config.url} timed out: {type(exc).__name__}") from None
    except httpx.InvalidURL as exc:
        raise StepConfigError(f"invalid url {config.url!r}: {exc}") from None
    except httpx.TransportError as exc:
        raise StepError(f"{config.method} {config.url} failed: {type(exc).__name__}: {exc}",
                        retriable=True) from None
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    body: Any = content.decode(response.encoding or "utf-8", errors="replace")
    if "json" in response.headers.get("content-type", "") and content:
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):  # not JSON after all, or absurdly deep: text
            pass
    output = {"status_code": response.status_code, "headers": dict(response.headers),
              "body": body, "elapsed_ms": elapsed_ms}
    if config.fail_on_status and response.status_code >= 400:
        preview = content[:300].decode("utf-8", errors="replace")
        raise StepError(
            f"{config.method} {config.url} answered {response.status_code} "
            f"{response.reason_phrase}: {preview}",
            retriable=_retriable_status(response.status_code), data=output,
        )
    return output


STEP = StepType(
    catalog=CatalogEntry(
        type="http_request", label="HTTP request", category="Integrations", icon="http",
        description="Calls an HTTP API and returns its status, headers and parsed body.",
        outputs=("status_code", "headers", "body", "elapsed_ms"),
    ),
    config_model=HttpRequestConfig,
    handler=run,
)

"""llm_call: a chat completion from any OpenAI-compatible API (OpenAI, Ollama, vLLM, LM
Studio...) over httpx.

``credential`` names a stored secret ``{"api_key": ..., "base_url": ...}``; or give
``base_url`` (and ``api_key``, e.g. ``{{ secrets.OPENAI_KEY }}``). Output
``{text, model, usage, finish_reason}`` and ``json`` when ``json_mode`` parsed the answer.
With ``stream``, tokens arrive as ``step.progress`` events (the app shows the text growing).
429 and 5xx are retriable.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepError, StepTimeout
from flowdesk.steps._base import StepConfig, credential

__all__ = ["STEP", "LlmCallConfig"]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: str


class LlmCallConfig(StepConfig):
    credential: str | None = Field(None, description="stored secret {api_key, base_url}")
    base_url: str | None = Field(None, description="e.g. http://localhost:11434/v1")
    api_key: str | None = Field(None, description="e.g. {{ secrets.OPENAI_KEY }}")
    model: str = Field(min_length=1)
    system: str | None = None
    prompt: str | None = None
    messages: list[Message] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0)
    json_mode: bool = Field(False, description="ask for a JSON object and parse it")
    stream: bool = Field(False, description="publish tokens as they arrive")
    timeout_seconds: float = Field(120.0, gt=0)

    @model_validator(mode="after")
    def _prompt_or_messages(self) -> LlmCallConfig:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("set exactly one of 'prompt' or 'messages'")
        return self


def _endpoint(config: LlmCallConfig, ctx: StepContext) -> tuple[str, dict[str, str]]:
    base, key = config.base_url, config.api_key
    if config.credential:
        cred = credential(ctx, config.credential, "api_key")
        base = base or cred.get("base_url")
        key = key or cred.get("api_key")
    base = base or "https://api.openai.com/v1"
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return base.rstrip("/") + "/chat/completions", headers


async def run(config: LlmCallConfig, ctx: StepContext) -> dict[str, Any]:
    import httpx

    url, headers = _endpoint(config, ctx)
    messages = [m.model_dump() for m in config.messages] if config.messages else []
    if config.system:
        messages.insert(0, {"role": "system", "content": config.system})
    if config.prompt is not None:
        messages.append({"role": "user", "content": config.prompt})
    body: dict[str, Any] = {"model": config.model, "messages": messages}
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.max_tokens is not None:
        body["max_tokens"] = config.max_tokens
    if config.json_mode:
        body["response_format"] = {"type": "json_object"}
    if config.stream:
        body["stream"] = True
    client = ctx.services.http
    try:
        if config.stream:
            output = await _stream(client, url, headers, body, config, ctx)
        else:
            response = await client.post(url, headers=headers, json=body,
                                         timeout=config.timeout_seconds)
            _check(response.status_code, response.text, url)
            data = response.json()
            choice = (data.get("choices") or [{}])[0]
            output = {"text": (choice.get("message") or {}).get("content") or "",
                      "model": data.get("model", config.model), "usage": data.get("usage"),
                      "finish_reason": choice.get("finish_reason")}
    except httpx.TimeoutException:
        raise StepTimeout(f"the model at {url} did not answer within "
                          f"{config.timeout_seconds:g} s") from None
    except httpx.TransportError as exc:
        raise StepError(f"cannot reach {url}: {type(exc).__name__}: {exc}",
                        retriable=True) from None
    except ValueError as exc:  # a body that is not the API's JSON
        raise StepError(f"{url} did not answer like an OpenAI-compatible API: {exc}") from None
    if config.json_mode:
        try:
            output["json"] = json.loads(output["text"])
        except json.JSONDecodeError as exc:
            raise StepError(f"the model's answer is not valid JSON: {exc.msg}") from None
    return output


def _check(status: int, text: str, url: str) -> None:
    if status >= 400:
        raise StepError(f"{url} answered {status}: {text[:300]}",
                        retriable=status == 429 or status >= 500)


async def _stream(client: Any, url: str, headers: dict[str, str], body: dict[str, Any],
                  config: LlmCallConfig, ctx: StepContext) -> dict[str, Any]:
    parts: list[str] = []
    finish = None
    model = config.model
    usage = None
    async with client.stream("POST", url, headers=headers, json=body,
                             timeout=config.timeout_seconds) as response:
        if response.status_code >= 400:
            await response.aread()
            _check(response.status_code, response.text, url)
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            model = chunk.get("model", model)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices", []):
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    parts.append(delta)
                    ctx.progress({"token": delta, "chars": sum(map(len, parts))})
                finish = choice.get("finish_reason") or finish
    return {"text": "".join(parts), "model": model, "usage": usage, "finish_reason": finish}


STEP = StepType(
    catalog=CatalogEntry(
        type="llm_call", label="LLM call", category="AI", icon="llm",
        description="Asks a chat model (OpenAI, Ollama, vLLM, LM Studio…) and returns its answer.",
        outputs=("text", "model", "usage", "finish_reason", "json"),
    ),
    config_model=LlmCallConfig,
    handler=run,
)

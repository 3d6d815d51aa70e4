"""Mappers for the n8n nodes that talk to the outside: HTTP Request (v1-v4), Code (Python
kept and wrapped so n8n's ``_input``/``_json`` work; JavaScript kept as a comment that fails
loudly until ported), Send Email, Postgres/MySQL (values bound as ``:params``, never spliced)
and the OpenAI / LangChain LLM nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flowdesk.importers.n8n_expr import py_path
from flowdesk.importers.n8n_nodes import NodeContext, json_with_expressions

__all__ = ["SERVICES", "code_config", "http_config"]

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _json_field(cx: NodeContext, text: Any, field: str) -> Any:
    if not isinstance(text, str):
        return cx.value(text, field)
    return json_with_expressions(text, cx, field)


def _pairs(items: Any, cx: NodeContext, field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = cx.value(item.get("value", ""), f"{field}.{item['name']}")
    return out


def http_config(cx: NodeContext) -> dict[str, Any]:
    p = cx.params
    old = cx.version < 3
    method = str(p.get("requestMethod" if old else "method", "GET")).upper()
    if method not in _METHODS:
        cx.problem(f"HTTP method {method!r} is not supported; GET is used", "method")
        method = "GET"
    config: dict[str, Any] = {"method": method, "url": cx.value(p.get("url", ""), "url")}
    options = p.get("options") or {}
    body: Any = None
    content_type = "json"
    if old:
        if p.get("jsonParameters"):
            query = _json_field(cx, p.get("queryParametersJson", "{}"), "params")
            headers = _json_field(cx, p.get("headerParametersJson", "{}"), "headers")
            if p.get("bodyParametersJson"):
                body = _json_field(cx, p["bodyParametersJson"], "json")
        else:
            query = _pairs((p.get("queryParametersUi") or {}).get("parameter"), cx, "params")
            headers = _pairs((p.get("headerParametersUi") or {}).get("parameter"), cx,
                             "headers")
            fields = (p.get("bodyParametersUi") or {}).get("parameter")
            body = _pairs(fields, cx, "json") if fields else None
        content_type = str(options.get("bodyContentType", "json"))
        follow = options.get("followRedirect", True)
        never_error = options.get("ignoreResponseCode", False)
    else:
        query = headers = {}
        if p.get("sendQuery"):
            query = (_json_field(cx, p.get("jsonQuery", "{}"), "params")
                     if p.get("specifyQuery") == "json" else
                     _pairs((p.get("queryParameters") or {}).get("parameters"), cx, "params"))
        if p.get("sendHeaders"):
            headers = (_json_field(cx, p.get("jsonHeaders", "{}"), "headers")
                       if p.get("specifyHeaders") == "json" else
                       _pairs((p.get("headerParameters") or {}).get("parameters"), cx,
                              "headers"))
        if p.get("sendBody"):
            content_type = str(p.get("contentType", "json"))
            if content_type == "raw":
                body = cx.value(p.get("body", ""), "body")
                headers = {"Content-Type": str(p.get("rawContentType", "text/plain")),
                           **(headers if isinstance(headers, dict) else {})}
            elif p.get("specifyBody") == "json":
                body = _json_field(cx, p.get("jsonBody", "{}"), "json")
            else:
                body = _pairs((p.get("bodyParameters") or {}).get("parameters"), cx, "json")
        follow = ((options.get("redirect") or {}).get("redirect") or {}).get(
            "followRedirects", True)
        never_error = ((options.get("response") or {}).get("response") or {}).get(
            "neverError", False)
    if query:
        config["params"] = query
    if headers:
        config["headers"] = {k: v if isinstance(v, str) else json.dumps(v)
                             for k, v in headers.items()} if isinstance(headers, dict) \
            else headers
    if body is not None:
        if content_type == "raw":
            config["body"] = body if isinstance(body, str) else json.dumps(body)
        elif content_type == "form-urlencoded" and isinstance(body, dict):
            config["body"] = "&".join(f"{k}={v}" for k, v in body.items())
            config.setdefault("headers", {})["Content-Type"] = \
                "application/x-www-form-urlencoded"
            cx.problem("the form body is sent as text without URL-encoding the values; check "
                       "values with spaces or '&'", "body")
        elif content_type in ("json", "") or isinstance(body, dict | list):
            config["json"] = body
            if content_type not in ("json", ""):
                cx.problem(f"a {content_type} body is not supported; it is sent as JSON",
                           "json")
        else:
            config["body"] = str(body)
    if options.get("timeout"):
        config["timeout_seconds"] = max(float(options["timeout"]) / 1000, 0.001)
    if follow is False:
        config["follow_redirects"] = False
    if never_error:
        config["fail_on_status"] = False
    auth = p.get("authentication", "none")
    if auth != "none":
        kind = p.get("nodeCredentialType") or p.get("genericAuthType") or auth
        cx.problem(f"n8n authentication '{kind}' is not translated: add the header with a "
                   "secret, e.g. Authorization: Bearer {{ secrets.API_TOKEN }}", "headers")
    if options.get("fullResponse") or ((options.get("response") or {}).get("response")
                                       or {}).get("fullResponse"):
        cx.problem("n8n's full response ({body, headers, statusCode}) is flowdesk's output "
                   "{body, headers, status_code}; references to statusCode need renaming")
    return config


def _py_subscript(path: list[Any]) -> str:
    out = str(path[0])
    for part in path[1:]:
        out += f"[{json.dumps(part)}]"
    return out


_PY_SHIM = '''\
# Imported from n8n ({mode}). n8n's _input, _json and item.json.x are emulated below;
# the value the code returns becomes `result`.
class _N8nDict(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


def _n8n_wrap(value):
    if isinstance(value, dict):
        return _N8nDict({{k: _n8n_wrap(v) for k, v in value.items()}})
    if isinstance(value, list):
        return [_n8n_wrap(v) for v in value]
    return value


class _N8nInput:
    def __init__(self, data):
        self._items = [_N8nDict(json=_n8n_wrap(data))]

    def all(self):
        return self._items

    def first(self):
        return self._items[0]

    def last(self):
        return self._items[-1]

    @property
    def item(self):
        return self._items[0]


def _n8n_plain(value):
    if isinstance(value, dict):
        if set(value) <= {{"json", "pairedItem", "binary"}} and "json" in value:
            return _n8n_plain(value["json"])
        return {{k: _n8n_plain(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_n8n_plain(v) for v in value]
    return value


_input = _N8nInput({incoming})
_json = _input.item.json
item = _input.item


def _n8n_code():
{body}


result = _n8n_plain(_n8n_code())
if isinstance(result, list) and len(result) == 1:
    result = result[0]
'''


def code_config(cx: NodeContext) -> dict[str, Any]:
    p = cx.params
    kind = cx.node.get("type")
    language = str(p.get("language", "javaScript")) if kind == "n8n-nodes-base.code" \
        else "javaScript"
    mode = str(p.get("mode", "runOnceForAllItems"))
    if language in ("python", "pythonNative"):
        code = str(p.get("pythonCode", ""))
        body = "\n".join("    " + line for line in code.splitlines()) or "    return None"
        incoming = _py_subscript(cx.incoming_path())
        cx.problem("n8n Python code is kept, wrapped so _input/_json work on the one incoming "
                   "item; check it (flowdesk passes one item, not a list)", "code")
        return {"code": _PY_SHIM.format(mode=mode, incoming=incoming, body=body)}
    code = str(p.get("jsCode", p.get("functionCode", "")))
    commented = "\n".join("# " + line for line in code.splitlines())
    cx.problem("JavaScript cannot run in flowdesk: the n8n code is kept as a comment — port "
               "this to Python (read `input` / `steps`, set `result`)", "code")
    return {"code": "# n8n JavaScript code — port this to Python, then remove the raise:\n"
                    f"{commented}\n"
                    "raise NotImplementedError('port the n8n JavaScript of this step to "
                    "Python')\n"}


def _emails(value: Any, cx: NodeContext, field: str) -> list[str]:
    if not value:
        return []
    if isinstance(value, str) and not value.startswith("="):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(cx.value(value, field))]


def _email(cx: NodeContext) -> tuple[str, dict[str, Any]]:
    p = cx.params
    options = p.get("options") or {}
    config: dict[str, Any] = {
        "from": cx.value(p.get("fromEmail", ""), "from"),
        "to": _emails(p.get("toEmail", ""), cx, "to"),
        "subject": cx.value(p.get("subject", ""), "subject"),
    }
    for key in ("ccEmail", "bccEmail"):
        values = _emails(p.get(key, options.get(key, "")), cx, key[:-5])
        if values:
            config[key[:-5]] = values
    fmt = p.get("emailFormat", "html" if cx.version >= 2 else "both")
    if fmt in ("text", "both") and p.get("text"):
        config["text"] = cx.value(p["text"], "text")
    if fmt in ("html", "both") and p.get("html"):
        config["html"] = cx.value(p["html"], "html")
    if "text" not in config and "html" not in config:
        config["text"] = ""
        cx.problem("the n8n email has no body", "text")
    if len(str(config["from"])) < 3:
        config["from"] = "flowdesk@localhost"
        cx.problem("the n8n email has no sender; set 'from'", "from")
    if not config["to"]:
        config["to"] = ["someone@example.com"]
        cx.problem("the n8n email has no recipient; set 'to'", "to")
    if p.get("operation", "send") != "send":
        cx.problem(f"n8n's '{p['operation']}' (send and wait for a reply) is not translated; "
                   "add a wait_for_approval or wait_for_event step after it")
    credential = cx.credential()
    if credential:
        config["credential"] = credential
    return "send_email", config


_SEG = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _split_replacements(text: str) -> list[str]:
    """n8n's ``queryReplacement``: values separated by commas outside ``{{ }}``."""
    parts, depth, current = [], 0, ""
    i = 0
    while i < len(text):
        if text.startswith("{{", i):
            depth += 1
            current += "{{"
            i += 2
        elif text.startswith("}}", i) and depth:
            depth -= 1
            current += "}}"
            i += 2
        elif text[i] == "," and not depth:
            parts.append(current.strip())
            current = ""
            i += 1
        else:
            current += text[i]
            i += 1
    if current.strip():
        parts.append(current.strip())
    return parts


def _database(cx: NodeContext) -> tuple[str, dict[str, Any]]:
    p = cx.params
    operation = p.get("operation", "insert")
    params: dict[str, Any] = {}
    table = p.get("table", "")
    table = table.get("value", "") if isinstance(table, dict) else table
    if operation == "executeQuery":
        query = str(p.get("query", ""))
        if query.startswith("="):
            def bind(m: re.Match[str]) -> str:
                key = f"e{len(params) + 1}"
                params[key] = cx.value("=" + m.group(0), f"params.{key}")
                return f":{key}"
            query = _SEG.sub(bind, query[1:])
        replacement = (p.get("options") or {}).get("queryReplacement")
        names = (p.get("additionalFields") or {}).get("queryParams")
        values: list[Any] = []
        if isinstance(replacement, str) and replacement:
            body = replacement[1:] if replacement.startswith("=") else replacement
            values = [cx.value("=" + v if replacement.startswith("=") else v,
                               f"params.p{i + 1}")
                      for i, v in enumerate(_split_replacements(body))]
        elif isinstance(names, str) and names:
            incoming = cx.incoming_path()
            values = ["{{ " + py_path([*incoming, n.strip()]) + " }}"
                      for n in names.split(",")]
        for i, value in enumerate(values):
            params[f"p{i + 1}"] = value
        query = re.sub(r"\$(\d+)(?::name)?", lambda m: f":p{m.group(1)}", query)
    elif operation == "insert" and table:
        columns = p.get("columns", "")
        if isinstance(columns, dict):  # v2: {mappingMode, value}
            mapped = columns.get("value") or {}
            if columns.get("mappingMode") != "defineBelow" or not mapped:
                cx.problem("n8n mapped the item's fields to columns automatically; list the "
                           "columns and params", "query")
            params = {str(k): cx.value(v, f"params.{k}") for k, v in mapped.items()}
            names_list = list(params)
        else:
            names_list = [c.strip() for c in str(columns).split(",") if c.strip()]
            incoming = cx.incoming_path()
            params = {n: "{{ " + py_path([*incoming, n]) + " }}"
                      for n in names_list}
        query = (f"INSERT INTO {table} ({', '.join(names_list)}) "
                 f"VALUES ({', '.join(':' + n for n in names_list)})")
    else:
        cx.problem(f"the n8n '{operation}' operation is not translated; write its SQL in "
                   "'query' (values as :params)", "query")
        query = f"-- n8n {operation} on {table or 'a table'}: write the SQL here"
    config: dict[str, Any] = {"query": query}
    if params:
        config["params"] = params
    credential = cx.credential()
    if credential:
        config["credential"] = credential
        cx.problem("the credential must hold the SQLAlchemy URL as {\"url\": "
                   "\"postgresql://…\"} (mysql://… for MySQL)", "credential")
    else:
        config["url"] = "sqlite:///:memory:"
        cx.problem("no database credential in the n8n node; set 'url' or 'credential'", "url")
    return "database_query", config


def _llm(cx: NodeContext) -> tuple[str, dict[str, Any]]:
    p = cx.params
    options = p.get("options") or {}
    config: dict[str, Any] = {}
    kind = str(cx.node.get("type"))
    messages: list[dict[str, Any]] = []
    model: Any = p.get("modelId", p.get("model", "gpt-4o-mini"))
    if kind in ("@n8n/n8n-nodes-langchain.chainLlm", "@n8n/n8n-nodes-langchain.agent"):
        tracer: Any = cx.tracer
        model = "gpt-4o-mini"
        for sub, ctype in tracer.graph.sub_nodes(cx.name):
            sub_node = tracer.graph.nodes[sub]
            sp = sub_node.get("parameters") or {}
            if ctype != "ai_languageModel":
                cx.problem(f"the {ctype.removeprefix('ai_')} sub-node {sub!r} is not "
                           "translated (flowdesk's llm_call has no tools or memory)")
                continue
            model = sp.get("model", model)
            options = {**(sp.get("options") or {}), **options}
            if "Ollama" in str(sub_node.get("type")):
                # Ollama needs no key: its OpenAI-compatible API on the default port
                config["base_url"] = "http://localhost:11434/v1"
                model = sp.get("model", "llama3.2")
                continue
            elif options.get("baseURL"):
                config["base_url"] = options["baseURL"]
            cx.node = {**cx.node, "credentials": sub_node.get("credentials")
                       or cx.node.get("credentials")}
        if p.get("promptType", "auto") == "define":
            prompt = cx.value(p.get("text", ""), "prompt")
        else:
            prompt = "{{ " + py_path([*cx.incoming_path(), "chatInput"]) + " }}"
        system = options.get("systemMessage")
        for m in (p.get("messages") or {}).get("messageValues") or []:
            if m.get("type") == "SystemMessagePromptTemplate":
                system = m.get("message")
        if system:
            config["system"] = cx.value(system, "system")
        config["prompt"] = prompt
    else:
        values = ((p.get("messages") or {}).get("values")
                  or (p.get("prompt") or {}).get("messages") or [])
        for i, m in enumerate(values):
            role = m.get("role", "user")
            messages.append({"role": role if role in ("system", "user", "assistant")
                             else "user", "content": cx.value(m.get("content", ""),
                                                              f"messages[{i}].content")})
        if not messages and p.get("prompt") and isinstance(p["prompt"], str):
            messages.append({"role": "user", "content": cx.value(p["prompt"], "prompt")})
        if not messages:
            messages.append({"role": "user", "content": ""})
            cx.problem("the n8n node has no prompt; write one", "messages")
        config["messages"] = messages
        if p.get("jsonOutput"):
            config["json_mode"] = True
    config["model"] = str(cx.value(model, "model")) or "gpt-4o-mini"
    if options.get("temperature") is not None:
        config["temperature"] = options["temperature"]
    if options.get("maxTokens"):
        config["max_tokens"] = int(options["maxTokens"])
    credential = cx.credential()
    if credential:
        config["credential"] = credential
    return "llm_call", config


SERVICES: dict[str, Callable[[NodeContext], tuple[str, dict[str, Any]]]] = {
    "n8n-nodes-base.emailSend": _email,
    "n8n-nodes-base.postgres": _database, "n8n-nodes-base.mySql": _database,
    "n8n-nodes-base.openAi": _llm, "@n8n/n8n-nodes-langchain.openAi": _llm,
    "@n8n/n8n-nodes-langchain.chainLlm": _llm, "@n8n/n8n-nodes-langchain.agent": _llm,
}

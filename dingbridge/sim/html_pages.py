"""Tiny zh-CN HTML pages for the simulator (our own markup and CSS, nothing third-party)."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_STYLE = """
body{font-family:"WenQuanYi Zen Hei","PingFang SC","Microsoft YaHei",sans-serif;margin:0;
background:#f2f4f7;color:#1f2329}
header{background:#3296fa;color:#fff;padding:12px 20px;font-size:18px}
main{max-width:860px;margin:20px auto;background:#fff;padding:20px 24px;border-radius:8px}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}h3{font-size:14px;color:#646a73}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e5e6eb;padding:6px 8px;text-align:left}
.users form{display:inline-block;margin:4px}
button{font-size:15px;padding:8px 14px;border:1px solid #3296fa;border-radius:6px;
background:#fff;color:#3296fa;cursor:pointer}
button.primary{background:#3296fa;color:#fff}button.deny{border-color:#999;color:#666}
.error{color:#d83931}.muted{color:#8f959e;font-size:13px}
"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header>钉钉模拟器 · {escape(title)}</header><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def error_page(title: str, message: str, status: int = 400) -> HTMLResponse:
    return page(title, f'<h1>{escape(title)}</h1><p class="error">{escape(message)}</p>', status)


def table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

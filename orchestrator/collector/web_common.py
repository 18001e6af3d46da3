"""What the collector's pages share: escaping, cells and tables, times shown for people, the
page shell with its little script (status filter, local times, reload).

Times: the server writes each as ``<time datetime=ISO>`` with the collector's local time and
how long ago ("3 min ago"); the script rewrites them in the browser's own zone. Without JS the
server's text stays, which is still local (the collector's) and relative.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

RUN_STATUSES = ("running", "ok", "failed", "timeout", "interrupted", "aborted", "skipped",
                "refused", "missed")
AVAILS = ("up", "down", "warn", "n/a", "undef", "stdby up", "stdby down")

STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em;color:#555}
table{border-collapse:collapse;margin:.4em 0 1em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.empty{color:#888;font-style:italic}
.st-up,.st-ok{background:#d7f5d7}.st-down,.st-failed,.st-nok,.st-error,.st-timeout{background:#f8d4d4}
.st-warn,.st-interrupted,.st-missed,.st-aborted{background:#fbedc4}
.st-skipped,.st-refused{background:#eee}.st-running{background:#d6e6fa}
code{font-size:.9em}#filter,#status-filter{margin-bottom:.5em}
pre.output{background:#f7f7f7;border:1px solid #ddd;padding:.4em;max-height:16em;overflow:auto;
  margin:0;white-space:pre-wrap}
time{white-space:nowrap}svg.timeline{border:1px solid #ddd;background:#fff}
"""

SCRIPT = """
(function(){
  var f=document.getElementById('filter'), s=document.getElementById('status-filter');
  function apply(){var q=f.value.toLowerCase(), st=s?s.value:'';
    document.querySelectorAll('tbody tr').forEach(function(tr){
      var show=tr.textContent.toLowerCase().indexOf(q)>=0;
      if(st&&tr.hasAttribute('data-status')){show=show&&tr.getAttribute('data-status')===st;}
      tr.style.display=show?'':'none';});}
  function ago(ms){var s=Math.round(Math.abs(ms)/1000),t;
    if(s<60)t=s+' s';else if(s<3600)t=Math.round(s/60)+' min';
    else if(s<172800)t=Math.round(s/3600)+' h';else t=Math.round(s/86400)+' d';
    return ms>=0?t+' ago':'in '+t;}
  document.querySelectorAll('time[datetime]').forEach(function(el){
    var d=new Date(el.getAttribute('datetime'));if(isNaN(d))return;
    var today=d.toDateString()===new Date().toDateString();
    el.textContent=(today?d.toLocaleTimeString():d.toLocaleString())+' ('+ago(Date.now()-d.getTime())+')';
    el.setAttribute('data-local','1');});
  f.addEventListener('input',apply);if(s){s.addEventListener('change',apply);}apply();
  document.getElementById('js-state').textContent='live (reloads every 15 s)';
  setTimeout(function(){if(!f.value&&!(s&&s.value)){location.reload();}},15000);
})();
"""


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ago(when: datetime, now: datetime) -> str:
    seconds = (now - when).total_seconds()
    s = abs(seconds)
    text = (f"{s:.0f} s" if s < 60 else f"{s / 60:.0f} min" if s < 3600
            else f"{s / 3600:.0f} h" if s < 172800 else f"{s / 86400:.0f} d")
    return f"{text} ago" if seconds >= 0 else f"in {text}"


def human_time(text: Any, now: datetime) -> str:
    """``<time>``: local time and how long ago; the ISO text is its title."""
    when = parse_time(text)
    if when is None:
        return "-"
    local = when.astimezone()
    shown = (f"{local:%H:%M:%S}" if local.date() == now.astimezone().date()
             else f"{local:%Y-%m-%d %H:%M:%S}")
    return (f'<time datetime="{escape(when.isoformat(), quote=True)}" '
            f'title="{escape(str(text), quote=True)}">{shown} ({ago(when, now)})</time>')


def cell(value: Any, status: bool = False) -> str:
    if value is None or value == "":
        return "<td>-</td>"
    text = escape(str(value))
    cls = f' class="st-{css_word(value)}"' if status else ""
    return f"<td{cls}>{text}</td>"


def css_word(value: Any) -> str:
    return escape(str(value)).replace(" ", "-").replace("/", "")


def time_cell(text: Any, now: datetime) -> str:
    return f"<td>{human_time(text, now)}</td>"


def table(caption: str, headers: Sequence[str], rows: Iterable[str], table_id: str) -> str:
    body = "".join(rows)
    if not body:
        return f'<h3>{escape(caption)}</h3><p class="empty" id="{table_id}">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (f'<h3>{escape(caption)}</h3><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def attrs(**values: Any) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{escape(str(v), quote=True)}"'
                   for k, v in values.items() if v is not None)


def service_href(cluster: str, service: str) -> str:
    return f"/services/{quote(cluster, safe='')}/{quote(service, safe='')}"


def status_select(selected: str | None) -> str:
    options = "".join(f'<option value="{escape(s, quote=True)}"'
                      f'{" selected" if s == selected else ""}>{escape(s)}</option>'
                      for s in (*RUN_STATUSES, *(a for a in AVAILS if a not in RUN_STATUSES),
                                "nok", "error"))
    return (f'<select id="status-filter" title="show only rows with this status">'
            f'<option value="">any status</option>{options}</select>')


def page(title: str, body: str, status: str | None = None) -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            '<input id="filter" type="search" placeholder="filter rows"> '
            f"{status_select(status)} "
            '<span id="js-state">static</span>'
            f"{body}<script>{SCRIPT}</script></body></html>")

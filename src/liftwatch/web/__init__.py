"""Server-rendered pages (Jinja2 + htmx), zh-CN by default with an English switch."""

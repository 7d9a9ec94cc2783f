"""Maintenance (维保): the TSG T5002-2017 item catalogue, the plans a maintenance contract implies
(traditional every-15-days visits and on-demand maintenance, 按需维保), work orders, and the detection of
fake maintenance (假维保). Pure cores (domain, catalogue, plans, fakes) take plain data and return plain
data; the service is the only writer. See docs/MAINTENANCE.md."""

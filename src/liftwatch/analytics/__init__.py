"""Big-data supervision (大数据监管): the city's KPIs by district, street, unit, place type, age band and
month, per 10,000 elevators, with targets and trends; coverage; the monthly and annual reports. It reads
every other domain through their services and queries, and owns no workflow. docs/ANALYTICS.md and
docs/REPORTS.md."""

"""What each page shows, one module per page: page cells call one function each, which reads
``findings.json`` (and the other artifacts) and returns escaped HTML or a chart."""

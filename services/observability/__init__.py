"""What operators scrape and ask: metrics of the whole bus, the processes ' heartbeats."""

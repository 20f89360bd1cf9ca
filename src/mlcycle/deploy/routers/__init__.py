"""The service's routers: predict (ours), protocols (MLflow scoring, Open Inference Protocol v2), admin."""

"""The baseline model: features, weighted regression, backtest, explanation (no Streamlit)."""

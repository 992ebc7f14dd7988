"""Character-level language models: data, models (transformer, LSTM), training, sampling."""

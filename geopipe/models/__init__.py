"""Keras models (U-Net, LSTM), simple baselines, losses, metrics and the model folder."""

"""Transports: how calls reach the adapters. They know methods and bytes, not resources."""

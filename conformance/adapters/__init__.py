"""The adapters nnspec ships: ``numpy`` (the reference), ``torch`` and ``jax``.

Each maps the contract (conformance.contract) onto one implementation. The reference adapter uses
per-op backward functions; the torch and JAX adapters use their framework's autodiff through one
generic ``vjp``: between them they exercise both gradient styles of the contract.

``onnxruntime`` and ``onnx-reference`` (extra ``onnx``) run ONNX models built by onnx_models;
forward only.
"""

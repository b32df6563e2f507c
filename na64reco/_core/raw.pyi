# Stubs for na64reco._core.raw (filled in with the bindings of csrc/bindings/raw_bind.cpp).

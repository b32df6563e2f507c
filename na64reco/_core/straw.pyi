# Stubs for na64reco._core.straw (filled in with the bindings of csrc/bindings/straw_bind.cpp).

# Stubs for na64reco._core.calo (filled in with the bindings of csrc/bindings/calo_bind.cpp).

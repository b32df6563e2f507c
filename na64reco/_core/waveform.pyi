# Stubs for na64reco._core.waveform (filled in with the bindings of csrc/bindings/waveform_bind.cpp).

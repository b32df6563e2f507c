# Type stubs for the compiled module na64reco._core (this folder holds stubs only; the
# extension module beside it is what Python imports). One stub file per concern.
from . import calo as calo
from . import raw as raw
from . import sim as sim
from . import straw as straw
from . import waveform as waveform

class InputError(ValueError): ...
class CoreError(RuntimeError): ...

def build_info() -> str: ...

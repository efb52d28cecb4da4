"""Load the sample Nyash plugins through examples/nyash/nyash.toml and call them.

Run from anywhere: `python examples/nyash/use_plugins.py`.  The plugins are compiled from
native/plugins/ with the system C compiler (cached) and placed where the nyash.toml's
search path looks, in a temporary directory next to a copy of the configuration.
"""

import shutil
import tempfile
from pathlib import Path

from reml_wasm import plugin_samples
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp)
    shutil.copy(HERE / "nyash.toml", work / "nyash.toml")
    for sample, lib_name in (("filebox", plugin_samples.FILEBOX_LIB), ("counterbox", plugin_samples.COUNTERBOX_LIB)):
        release = work / "plugins" / sample / "target" / "release"
        release.mkdir(parents=True)
        shutil.copy(plugin_samples.build_plugin(sample), release / lib_name)

    with PluginHost(nyash_toml.load(work / "nyash.toml")) as host:
        with host.create("FileBox") as f:            # birth now, fini at the end of the block
            f.open(str(work / "note.txt"), "w")
            written = f.write("hello from a plugin")
            f.close()
        counter = host.create("CounterBox")          # a singleton
        counter.inc()
        counter.inc()
        print(f"wrote {written} bytes; counter at {counter.get()}")
        assert (work / "note.txt").read_text() == "hello from a plugin"
        assert counter.get() == 2

// Thin binding of csrc/raw: a RawFile whose next_batch() hands out numpy columns that
// take over the decoder's buffers (no copy, no Python object per digit).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdlib>
#include <vector>
#include <new>

#include "bindings/bindings.hpp"
#include "common/error.hpp"
#include "raw/buffer_pool.hpp"
#include "raw/error_codes.hpp"
#include "raw/layout.hpp"
#include "raw/msadc_records.hpp"
#include "raw/raw_file.hpp"
#include "raw/address_lookup.hpp"
#include "raw/event_walk.hpp"
#include "raw/sample_range.hpp"

namespace py = pybind11;

namespace na64::py {
namespace {

template <typename T>
pybind11::array_t<T> to_numpy(raw::Column<T>& column, std::vector<pybind11::ssize_t> shape) {
  T* data = column.release();
  if (!data) data = static_cast<T*>(raw::pool_acquire(sizeof(T)));
  pybind11::capsule owner(data, [](void* p) { raw::pool_release(p); });
  return pybind11::array_t<T>(shape, data, owner);
}

template <typename T>
pybind11::array_t<T> to_numpy(raw::Column<T>& column) {
  return to_numpy(column, {static_cast<pybind11::ssize_t>(column.size())});
}

pybind11::dict to_python(raw::RawBatch& b) {
  pybind11::dict events;
  events["index"] = to_numpy(b.events.index);
  events["offset"] = to_numpy(b.events.offset);
  events["size"] = to_numpy(b.events.size);
  events["run"] = to_numpy(b.events.run);
  events["spill"] = to_numpy(b.events.spill);
  events["event_in_run"] = to_numpy(b.events.event_in_run);
  events["event_in_spill"] = to_numpy(b.events.event_in_spill);
  events["type"] = to_numpy(b.events.type);
  events["trigger_mask"] = to_numpy(b.events.trigger_mask);
  events["time"] = to_numpy(b.events.time);
  events["nerrors"] = to_numpy(b.events.nerrors);

  pybind11::dict sadc;
  const auto nsadc = static_cast<pybind11::ssize_t>(b.sadc.rows());
  const auto width = static_cast<pybind11::ssize_t>(b.sadc.width);
  sadc["event"] = to_numpy(b.sadc.event);
  sadc["source_id"] = to_numpy(b.sadc.source_id);
  sadc["port"] = to_numpy(b.sadc.port);
  sadc["chip"] = to_numpy(b.sadc.chip);
  sadc["channel"] = to_numpy(b.sadc.channel);
  sadc["nsamples"] = to_numpy(b.sadc.nsamples);
  sadc["samples"] = to_numpy(b.sadc.samples, {nsadc, width});
  sadc["sum"] = to_numpy(b.sadc.sum);

  pybind11::dict tdc;
  tdc["event"] = to_numpy(b.tdc.event);
  tdc["source_id"] = to_numpy(b.tdc.source_id);
  tdc["port"] = to_numpy(b.tdc.port);
  tdc["chip"] = to_numpy(b.tdc.chip);
  tdc["channel"] = to_numpy(b.tdc.channel);
  tdc["raw_time"] = to_numpy(b.tdc.raw_time);
  tdc["trigger_time"] = to_numpy(b.tdc.trigger_time);
  tdc["time_bins"] = to_numpy(b.tdc.time_bins);
  tdc["time_ns"] = to_numpy(b.tdc.time_ns);

  pybind11::dict errors;
  errors["event"] = to_numpy(b.errors.event);
  errors["offset"] = to_numpy(b.errors.offset);
  errors["source_id"] = to_numpy(b.errors.source_id);
  errors["code"] = to_numpy(b.errors.code);
  errors["value"] = to_numpy(b.errors.value);

  pybind11::dict out;
  out["events"] = events;
  out["sadc"] = sadc;
  out["tdc"] = tdc;
  out["errors"] = errors;
  return out;
}

pybind11::dict next_batch(raw::RawFile& file, pybind11::ssize_t max_events) {
  if (max_events <= 0) throw na64::InputError(na64::concat("max_events must be positive, got ", max_events));
  raw::RawBatch batch;
  {
    pybind11::gil_scoped_release nogil;
    batch = file.next_batch(static_cast<size_t>(max_events));
  }
  return to_python(batch);
}

raw::RawFile from_buffer(const pybind11::buffer& data, std::string name) {
  pybind11::buffer_info info = data.request();
  pybind11::ssize_t expected_stride = info.itemsize;
  for (pybind11::ssize_t d = info.ndim - 1; d >= 0; --d) {
    const auto dim = static_cast<size_t>(d);
    if (info.shape[dim] > 1 && info.strides[dim] != expected_stride)
      throw na64::InputError(na64::concat("raw data buffer must be C-contiguous; dimension ", d, " has stride ",
                                          info.strides[dim], ", expected ", expected_stride));
    expected_stride *= info.shape[dim];
  }
  const auto bytes = static_cast<size_t>(info.size * info.itemsize);
  const void* ptr = info.ptr;
  // The buffer view stays held while the RawFile lives: the bytes cannot be freed or resized
  // under the decoder (a bytearray refuses to resize while it is exported). Releasing the
  // view needs the GIL, whoever drops the last reference.
  auto* view = new pybind11::buffer_info(std::move(info));
  std::shared_ptr<const void> owner(view, [](const void* p) {
    pybind11::gil_scoped_acquire gil;
    delete static_cast<const pybind11::buffer_info*>(p);
  });
  return raw::RawFile(raw::RawBuffer::borrow(ptr, bytes, std::move(owner)), std::move(name));
}

// words and taken must already be uint32 / uint8 (no forcecast: a converted copy would lose the output)
void fill_msadc_records(pybind11::array_t<std::uint32_t, pybind11::array::c_style> words,
                        pybind11::array_t<std::uint8_t, pybind11::array::c_style> taken,
                        pybind11::array_t<std::uint16_t> samples, pybind11::array_t<std::int64_t> nsamples,
                        pybind11::array_t<std::int64_t> sum, pybind11::array_t<std::int64_t> channel) {
  const auto contiguous = [](const pybind11::array& a, const char* name, pybind11::ssize_t ndim) {
    if (a.ndim() != ndim || !(a.flags() & pybind11::array::c_style))
      throw na64::InputError(na64::concat("fill_msadc_records: ", name, " must be a C-contiguous ", ndim,
                                          "-d array of the right dtype, got ndim ", a.ndim()));
  };
  contiguous(words, "words", 1);
  contiguous(taken, "taken", 1);
  contiguous(samples, "samples", 2);
  contiguous(nsamples, "nsamples", 1);
  contiguous(sum, "sum", 1);
  contiguous(channel, "channel", 1);
  const auto n = samples.shape(0);
  if (taken.shape(0) != words.shape(0) || nsamples.shape(0) != n || sum.shape(0) != n || channel.shape(0) != n)
    throw na64::InputError(na64::concat("fill_msadc_records: words/taken have ", words.shape(0), "/", taken.shape(0),
                                        " entries and samples/nsamples/sum/channel ", n, "/", nsamples.shape(0), "/",
                                        sum.shape(0), "/", channel.shape(0), " rows; expected equal"));
  raw::MsadcRecords rec;
  rec.n_records = n;
  rec.width = samples.shape(1);
  rec.samples = samples.data();
  rec.nsamples = nsamples.data();
  rec.sum = sum.data();
  rec.channel = channel.data();
  std::uint32_t* out = words.mutable_data();
  pybind11::gil_scoped_release nogil;
  raw::fill_msadc_records(rec, out, taken.data(), words.shape(0));
}

pybind11::tuple sample_range(const pybind11::array_t<std::uint16_t, pybind11::array::c_style | pybind11::array::forcecast>& samples,
                             const pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>& nsamples) {
  if (samples.ndim() != 2) throw InputError(concat("sample_range: samples must be (n, W), got ndim ", samples.ndim()));
  const auto n = samples.shape(0);
  if (nsamples.ndim() != 1 || nsamples.shape(0) != n)
    throw InputError(concat("sample_range: nsamples must hold one value per digit (", n, ")"));
  pybind11::array_t<std::int32_t> lo(n), hi(n);
  {
    pybind11::gil_scoped_release nogil;
    raw::sample_range(samples.data(), n, samples.shape(1), nsamples.data(), lo.mutable_data(), hi.mutable_data());
  }
  return pybind11::make_tuple(lo, hi);
}

pybind11::tuple walk_result(const raw::EventWalk& w) {
  pybind11::array_t<std::uint64_t> offsets(static_cast<pybind11::ssize_t>(w.offsets.size()));
  pybind11::array_t<std::uint32_t> sizes(static_cast<pybind11::ssize_t>(w.sizes.size()));
  std::copy(w.offsets.begin(), w.offsets.end(), offsets.mutable_data());
  std::copy(w.sizes.begin(), w.sizes.end(), sizes.mutable_data());
  return pybind11::make_tuple(offsets, sizes, w.stop_offset, static_cast<int>(w.stop), w.value);
}

pybind11::tuple walk_events(const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& data) {
  if (data.ndim() != 1) throw InputError(concat("walk_events: data must be 1-d bytes, got ndim ", data.ndim()));
  raw::EventWalk w;
  {
    pybind11::gil_scoped_release nogil;
    w = raw::walk_events(data.data(), static_cast<std::uint64_t>(data.size()));
  }
  return walk_result(w);
}

pybind11::tuple walk_events_fd(int fd, std::int64_t size) {
  if (fd < 0 || size < 0) throw InputError(concat("walk_events_fd: need an open descriptor and a size >= 0, got ", fd, " and ", size));
  raw::EventWalk w;
  {
    pybind11::gil_scoped_release nogil;
    w = raw::walk_events_fd(fd, static_cast<std::uint64_t>(size));
  }
  return walk_result(w);
}

// Per digit parity span and, with want_lowest, the smallest sample: one pass. Recorded counts
// of the decoder's dtype (uint16) are read in place, others converted to int64.
pybind11::object parity_span_impl(
    const pybind11::array_t<std::uint16_t, pybind11::array::c_style | pybind11::array::forcecast>& samples,
    const pybind11::array& nsamples, bool want_lowest, const char* what) {
  if (samples.ndim() != 2) throw InputError(concat(what, ": samples must be (n, W), got ndim ", samples.ndim()));
  const auto n = samples.shape(0);
  if (nsamples.ndim() != 1 || nsamples.shape(0) != n)
    throw InputError(concat(what, ": nsamples must hold one value per digit (", n, ")"));
  pybind11::array_t<std::int32_t> span(n);
  pybind11::array_t<std::int32_t> lowest(want_lowest ? n : 0);
  std::int32_t* low = want_lowest ? lowest.mutable_data() : nullptr;
  if (nsamples.dtype().is(pybind11::dtype::of<std::uint16_t>()) && (nsamples.flags() & pybind11::array::c_style)) {
    const auto* counts = static_cast<const std::uint16_t*>(nsamples.data());
    pybind11::gil_scoped_release nogil;
    raw::parity_span(samples.data(), n, samples.shape(1), counts, span.mutable_data(), low);
  } else {
    const auto counts = pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>::ensure(nsamples);
    if (!counts) throw InputError(concat(what, ": nsamples must be integers"));
    pybind11::gil_scoped_release nogil;
    raw::parity_span(samples.data(), n, samples.shape(1), counts.data(), span.mutable_data(), low);
  }
  if (!want_lowest) return span;
  return pybind11::make_tuple(span, lowest);
}

pybind11::object parity_span(
    const pybind11::array_t<std::uint16_t, pybind11::array::c_style | pybind11::array::forcecast>& samples,
    const pybind11::array& nsamples) {
  return parity_span_impl(samples, nsamples, false, "parity_span");
}

pybind11::object parity_span_and_lowest(
    const pybind11::array_t<std::uint16_t, pybind11::array::c_style | pybind11::array::forcecast>& samples,
    const pybind11::array& nsamples) {
  return parity_span_impl(samples, nsamples, true, "parity_span_and_lowest");
}

// The decoded address columns of a batch's digits and the sorted map keys: one length, 1-d.
void check_address_columns(const char* what, const pybind11::array& sorted_keys, const pybind11::array& source_id,
                           const pybind11::array& port, const pybind11::array& chip, const pybind11::array& channel) {
  const auto n = source_id.size();
  if (source_id.ndim() != 1 || port.ndim() != 1 || chip.ndim() != 1 || channel.ndim() != 1 || port.size() != n ||
      chip.size() != n || channel.size() != n)
    throw InputError(concat(what, ": source_id, port, chip and channel must be 1-d of one length, got ",
                            source_id.size(), ", ", port.size(), ", ", chip.size(), ", ", channel.size()));
  if (sorted_keys.ndim() != 1) throw InputError(concat(what, ": sorted_keys must be 1-d"));
}

pybind11::array_t<std::int64_t> lookup_addresses(
    const pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>& sorted_keys,
    const pybind11::array_t<std::uint16_t, pybind11::array::c_style>& source_id,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& port,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& chip,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& channel) {
  check_address_columns("lookup_addresses", sorted_keys, source_id, port, chip, channel);
  const auto n = source_id.size();
  pybind11::array_t<std::int64_t> out(n);
  {
    pybind11::gil_scoped_release nogil;
    raw::lookup_addresses(sorted_keys.data(), sorted_keys.size(), source_id.data(), port.data(), chip.data(),
                          channel.data(), n, out.mutable_data());
  }
  return out;
}

pybind11::list annotate_by_key(
    const pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>& sorted_keys,
    const pybind11::array_t<std::uint16_t, pybind11::array::c_style>& source_id,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& port,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& chip,
    const pybind11::array_t<std::uint8_t, pybind11::array::c_style>& channel, const pybind11::list& tables) {
  check_address_columns("annotate_by_key", sorted_keys, source_id, port, chip, channel);
  const auto n = source_id.size();
  const auto n_keys = sorted_keys.size();
  std::vector<pybind11::array> keep;
  std::vector<raw::KeyedColumn> columns;
  pybind11::list outputs;
  for (std::size_t c = 0; c < tables.size(); ++c) {
    auto table = pybind11::array::ensure(tables[c], pybind11::array::c_style);
    if (!table || table.ndim() != 1 || table.shape(0) != n_keys + 1)
      throw InputError(concat("annotate_by_key: table ", c, " must be a 1-d array of n_keys + 1 = ", n_keys + 1,
                              " values"));
    pybind11::array out(table.dtype(), std::vector<pybind11::ssize_t>{static_cast<pybind11::ssize_t>(n)});
    columns.push_back(raw::KeyedColumn{table.data(), out.mutable_data(), static_cast<int>(table.itemsize())});
    keep.push_back(table);
    outputs.append(out);
  }
  {
    pybind11::gil_scoped_release nogil;
    raw::annotate_by_key(sorted_keys.data(), n_keys, source_id.data(), port.data(), chip.data(), channel.data(), n,
                         columns.data(), static_cast<int>(columns.size()));
  }
  return outputs;
}

}  // namespace

void bind_raw(pybind11::module_& m) {
  m.def("sample_range", &sample_range, pybind11::arg("samples"), pybind11::arg("nsamples"),
        "(lo, hi): smallest and largest recorded sample of each digit (both 0 where none is recorded).");
  m.def("lookup_addresses", &lookup_addresses, pybind11::arg("sorted_keys"), pybind11::arg("source_id"),
        pybind11::arg("port"), pybind11::arg("chip"), pybind11::arg("channel"),
        "Per digit (decoded uint16 source_id, uint8 port, chip, channel): the index into sorted_keys "
        "(ascending, packed as ((source_id * 256 + port) * 256 + chip) * 256 + channel) of its address, -1 "
        "where absent.");
  m.def("walk_events", &walk_events, pybind11::arg("data"),
        "(offsets, sizes, stop_offset, stop, value): the whole DATE events of a raw file's bytes, from their "
        "size and magic words; stop 0 clean, 1 truncated header, 2 bad magic (value: the word found), 3 bad "
        "size (value: the size word), 4 truncated event (value: the size word).");
  m.def("walk_events_fd", &walk_events_fd, pybind11::arg("fd"), pybind11::arg("size"),
        "walk_events over the first size bytes of an open file (its descriptor), reading the headers "
        "with pread.");
  m.def("annotate_by_key", &annotate_by_key, pybind11::arg("sorted_keys"), pybind11::arg("source_id"),
        pybind11::arg("port"), pybind11::arg("chip"), pybind11::arg("channel"), pybind11::arg("tables"),
        "Per digit, for each table (n_keys + 1 values: one per sorted key, then the value for an address "
        "the map lacks): the entry of its address; lookup_addresses and the gathers in one pass.");
  m.def("parity_span", &parity_span, pybind11::arg("samples"), pybind11::arg("nsamples"),
        "Per digit: the larger of the spans (max - min) of its even and of its odd recorded samples "
        "(the interleaved ADCs' pedestal offset left out; 0 where a parity has under two samples).");
  m.def("parity_span_and_lowest", &parity_span_and_lowest, pybind11::arg("samples"), pybind11::arg("nsamples"),
        "(span, lowest): parity_span and sample_range's smallest recorded sample, from one pass.");
  m.def("fill_msadc_records", &fill_msadc_records, pybind11::arg("words"), pybind11::arg("taken"),
        pybind11::arg("samples"), pybind11::arg("nsamples"), pybind11::arg("sum"), pybind11::arg("channel"),
        "Raw writer: pack MSADC channel records (header word, then 12-bit sample pairs) in order into "
        "the words whose taken flag is 0; the free words must be exactly as many as the records need.");
  pybind11::dict names;
  for (const auto& [code, name] : raw::error_names()) names[pybind11::int_(code)] = name;
  m.attr("ERROR_NAMES") = names;
  m.attr("MUX_SOURCE_ID_MIN") = raw::slink::kMuxSourceIdMin;
  m.attr("FORMAT_MSADC") = raw::slink::kFormatMsadc;
  m.attr("FORMAT_F1") = raw::slink::kFormatF1;
  m.attr("F1_BIN_NS") = raw::f1::kBinNs;
  m.attr("MIN_SAMPLE_WIDTH") = raw::msadc::kMinSampleWidth;

  pybind11::class_<raw::RawFile>(m, "RawFile",
                                 "A memory-mapped raw file (or a copied buffer) with a resumable decoding offset.")
      .def(pybind11::init([](const std::string& path) { return raw::RawFile::open(path); }), pybind11::arg("path"),
           "Map a DATE raw file read-only.")
      .def_static("from_buffer", &from_buffer, pybind11::arg("data"), pybind11::arg("name") = "<bytes>",
                  "Decode a bytes-like object in place (no copy); it stays referenced while the RawFile lives.")
      .def("next_batch", &next_batch, pybind11::arg("max_events"),
           "Decode up to max_events events from the current offset; dict of tables of numpy columns.")
      .def("rewind", &raw::RawFile::rewind, "Go back to the first byte.")
      .def_property_readonly("done", &raw::RawFile::done)
      .def_property_readonly("offset", &raw::RawFile::offset)
      .def_property_readonly("events_decoded", &raw::RawFile::events_decoded)
      .def_property_readonly("size", &raw::RawFile::size)
      .def_property_readonly("name", &raw::RawFile::name);
}

}  // namespace na64::py

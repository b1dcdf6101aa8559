// A plain shared library with exported code but no trellis_plugin descriptor: discovery must
// skip it in a directory and refuse it when it is named directly.
extern "C" __attribute__((visibility("default"))) int trellis_test_not_a_plugin_answer() {
  return 42;
}

/* Node.js native addon built against the V8 ABI of Node 18: exports node_register_module_v108. */
__attribute__((visibility("default"))) void node_register_module_v108(void *exports, void *module, void *context)
{
    (void)exports;
    (void)module;
    (void)context;
}

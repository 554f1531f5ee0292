/* Node.js N-API addon (ABI-stable across Node versions): exports napi_register_module_v1. */
__attribute__((visibility("default"))) void *napi_register_module_v1(void *env, void *exports)
{
    (void)env;
    return exports;
}

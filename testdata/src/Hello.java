// Java class-file fixture: compiled bytecode starts with 0xCAFEBABE, which must not be taken for a Mach-O fat header.
public class Hello {
    public static String greet(String name) {
        return "hello, " + name;
    }
}

// Managed .NET assembly fixture: a PE/COFF file with a CLR header and IL code only (no native code).
public static class Hello
{
    public static string Greet(string name) { return "hello, " + name; }
}

<#
.SYNOPSIS
    Sends one file to the Sekisho gateway from Windows, and goes on after a
    broken line instead of starting again.

.DESCRIPTION
    Windows PowerShell 5.1 (Windows 11, Server 2022) and PowerShell 7. The
    municipality's certificate and key come as one PFX file. The gateway's
    certificate must chain to the internal CA given with -CaCert: that CA
    is trusted for this connection only, never added to Windows' store.
    The file's SHA-256 goes as Content-Digest, so the gateway keeps nothing
    that differs from the file. Before each try the script asks how much of
    the file the gateway holds from a cut try (HEAD, Upload-Offset) and
    sends only the rest (Content-Range).

    Exit code 0 with the receipt (JSON) printed; 1 when the gateway refused
    the file (its JSON error printed: not worth a retry); 2 when it could
    not be delivered within -Tries; 64 for bad arguments.

    NOT RUN HERE: the project's machines have no PowerShell. The gateway's
    side of every request below (PUT with Content-Digest, HEAD, PUT with
    Content-Range) is tested with curl in tests/integration/.

.EXAMPLE
    .\sekisho-upload.ps1 -Gateway https://192.0.2.10:8443 -Dataset health-checkup `
        -Pfx .\112232.pfx -CaCert .\internal-ca.crt -File .\kenshin.csv
#>
param(
    [Parameter(Mandatory = $true)] [string] $Gateway,
    [Parameter(Mandatory = $true)] [string] $Dataset,
    [Parameter(Mandatory = $true)] [string] $File,
    [Parameter(Mandatory = $true)] [string] $Pfx,
    [Parameter(Mandatory = $true)] [string] $CaCert,
    [System.Security.SecureString] $PfxPassword,
    [int] $Tries = 10
)
$ErrorActionPreference = 'Stop'

if (-not (Test-Path -LiteralPath $File -PathType Leaf)) {
    Write-Error "cannot read $File"; exit 64
}
if ($null -eq $PfxPassword) {
    $PfxPassword = Read-Host -AsSecureString "PFX のパスワード / PFX password"
}

# The check of the gateway's certificate, in C#: HttpClient calls it on a
# thread where a PowerShell script block cannot run. Windows has already
# checked the name; the chain must end at our CA, whatever Windows trusts.
# (PowerShell 7 compiles against all of .NET already; Windows PowerShell
# needs System.Net.Http named.)
if (-not ('SekishoTrust' -as [type])) {
    $refs = @{}
    if ($PSVersionTable.PSEdition -ne 'Core') {
        Add-Type -AssemblyName System.Net.Http
        $refs = @{ ReferencedAssemblies = @('System.Net.Http') }
    }
    Add-Type @refs -TypeDefinition @'
using System;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

public static class SekishoTrust {
    public static X509Certificate2 Ca;

    public static bool Check(HttpRequestMessage m, X509Certificate2 cert,
        X509Chain unused, SslPolicyErrors errors) {
        if (cert == null || Ca == null ||
            (errors & (SslPolicyErrors.RemoteCertificateNameMismatch |
            SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using (X509Chain chain = new X509Chain()) {
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags =
                X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.ChainPolicy.ExtraStore.Add(Ca);
            if (!chain.Build(cert))
                return false;
            X509ChainElement root =
                chain.ChainElements[chain.ChainElements.Count - 1];
            return root.Certificate.Thumbprint == Ca.Thumbprint;
        }
    }

    public static Func<HttpRequestMessage, X509Certificate2, X509Chain,
        SslPolicyErrors, bool> Callback() { return Check; }
}
'@
}

[SekishoTrust]::Ca = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 (
    (Resolve-Path -LiteralPath $CaCert).Path)
$handler = New-Object System.Net.Http.HttpClientHandler
$handler.ClientCertificateOptions = [System.Net.Http.ClientCertificateOption]::Manual
[void] $handler.ClientCertificates.Add((New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 (
    (Resolve-Path -LiteralPath $Pfx).Path, $PfxPassword)))
$handler.ServerCertificateCustomValidationCallback = [SekishoTrust]::Callback()
# TLS as Windows offers it (1.3 on Windows 11 and Server 2022).
if ($PSVersionTable.PSEdition -ne 'Core') {
    [System.Net.ServicePointManager]::SecurityProtocol =
        [System.Net.SecurityProtocolType]::SystemDefault
}
$client = New-Object System.Net.Http.HttpClient ($handler)
$client.Timeout = [System.Threading.Timeout]::InfiniteTimeSpan

$path = (Resolve-Path -LiteralPath $File).Path
$name = [System.IO.Path]::GetFileName($path)
$url = $Gateway.TrimEnd('/') + '/v1/uploads/' + [Uri]::EscapeDataString($Dataset) +
    '/' + [Uri]::EscapeDataString($name)
$sha = [System.Security.Cryptography.SHA256]::Create()
$fs = [System.IO.File]::OpenRead($path)
try { $digest = 'sha-256=:' + [Convert]::ToBase64String($sha.ComputeHash($fs)) + ':' }
finally { $fs.Dispose() }
$size = (Get-Item -LiteralPath $path).Length

# How many bytes of this file the gateway holds from a cut try (0: none).
function Get-Held {
    try {
        $req = New-Object System.Net.Http.HttpRequestMessage ([System.Net.Http.HttpMethod]::Head, $url)
        $res = $client.SendAsync($req).GetAwaiter().GetResult()
        if ([int] $res.StatusCode -eq 200 -and $res.Headers.Contains('Upload-Offset')) {
            return [int64] (@($res.Headers.GetValues('Upload-Offset'))[0])
        }
    } catch { }
    return [int64] 0
}

$wait = 5
for ($try = 1; $try -le $Tries; $try++) {
    $held = Get-Held
    $fs = [System.IO.File]::OpenRead($path)
    $code = 0
    try {
        $req = New-Object System.Net.Http.HttpRequestMessage ([System.Net.Http.HttpMethod]::Put, $url)
        if ($held -gt 0 -and $held -lt $size) {
            Write-Host "try ${try}: the gateway holds $held of $size bytes; sending the rest"
            [void] $fs.Seek($held, [System.IO.SeekOrigin]::Begin)
        } else {
            Write-Host "try ${try}: sending $size bytes"
            $held = 0
        }
        $req.Content = New-Object System.Net.Http.StreamContent ($fs)
        if ($held -gt 0) {
            $req.Content.Headers.ContentRange =
                New-Object System.Net.Http.Headers.ContentRangeHeaderValue ($held, ($size - 1), $size)
        }
        [void] $req.Content.Headers.TryAddWithoutValidation('Content-Digest', $digest)
        $res = $client.SendAsync($req).GetAwaiter().GetResult()
        $code = [int] $res.StatusCode
        $body = $res.Content.ReadAsStringAsync().GetAwaiter().GetResult()
    } catch {
        $body = $_.Exception.GetBaseException().Message
    } finally {
        $fs.Dispose()
    }
    if ($code -eq 200 -or $code -eq 201) {
        Write-Output $body
        exit 0
    }
    if ($code -ne 0 -and $code -ne 408 -and $code -ne 409 -and $code -ne 429 -and $code -lt 500) {
        # The JSON error names the cause, in English ("error") and
        # Japanese ("error_ja").
        Write-Host "the gateway refused the file ($code):"
        Write-Output $body
        exit 1
    }
    Write-Host "try $try did not finish ($code): $body"
    if ($try -lt $Tries) {
        Write-Host "again in $wait s"
        Start-Sleep -Seconds $wait
        if ($wait -lt 300) { $wait *= 2 }
    }
}
Write-Host "not delivered after $Tries tries"
exit 2

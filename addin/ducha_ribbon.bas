Attribute VB_Name = "DuchaRibbon"
Option Explicit

' The ducha version this add-in was built with (set by `ducha addin build`; `ducha addin doctor` compares it).
Public Const DUCHA_VERSION As String = "0.1.0"

' Ribbon callback of the ducha add-in (keep this module ASCII: the VBA project uses code page 1252).
' Every button of the tab calls DuchaButton; the button id names the command that ducha.excel.run carries out.
Public Sub DuchaButton(control As IRibbonControl)
    RunPython "import ducha.excel as x; x.run('" & control.Id & "')"
End Sub
